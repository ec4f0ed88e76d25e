/** Password-reset links. */

export interface PasswordResetRow {
  id: string;
  userId: string;
  secretHash: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

export interface ResetStore {
  insertPasswordReset(row: PasswordResetRow): Promise<void>;
  getPasswordReset(id: string): Promise<PasswordResetRow | undefined>;
  /** consume once: marks used only if unused and unexpired at `now`; returns the row when this call consumed it */
  consumePasswordReset(id: string, now: number): Promise<PasswordResetRow | undefined>;
  /** marks every unused reset link of the user used at `now` (a completed reset or password change voids its siblings); returns how many */
  voidPasswordResets(userId: string, now: number): Promise<number>;
}
