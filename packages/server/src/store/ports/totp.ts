/** The TOTP second factor. */

export interface TotpRow {
  userId: string;
  secretSealed: string;
  confirmedAt: number | null;
  /** last accepted time step; a code for a step ≤ this is a replay */
  lastStep: number | null;
  createdAt: number;
}

export interface TotpStore {
  /** insert or replace (an unconfirmed enrolment restarts) */
  putTotp(row: TotpRow): Promise<void>;
  getTotp(userId: string): Promise<TotpRow | undefined>;
  /** confirms an unconfirmed enrolment and consumes `step` (the code that proved it), once */
  confirmTotp(userId: string, at: number, step: number): Promise<boolean>;
  deleteTotp(userId: string): Promise<void>;
  /** consume a time step once: sets last_step = step only if last_step is null or < step */
  useTotpStep(userId: string, step: number): Promise<boolean>;
}
