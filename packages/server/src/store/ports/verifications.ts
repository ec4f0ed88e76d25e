/** Email-verification links. */

export interface EmailVerificationRow {
  id: string;
  userId: string;
  /** the address the link was mailed to: it proves only that one, should the account's email change */
  email: string;
  secretHash: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

export interface VerificationStore {
  insertEmailVerification(row: EmailVerificationRow): Promise<void>;
  getEmailVerification(id: string): Promise<EmailVerificationRow | undefined>;
  /** consume once: marks used only if unused and unexpired at `now`; returns the row when this call consumed it */
  consumeEmailVerification(id: string, now: number): Promise<EmailVerificationRow | undefined>;
}
