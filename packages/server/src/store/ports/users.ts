/** Accounts. */

export interface UserRow {
  id: string;
  email: string;
  passwordHash: string;
  isAdmin: boolean;
  passwordResetRequired: boolean;
  createdAt: number;
  /** when the owner proved the mailbox (verification link or password reset); null: never */
  emailVerifiedAt: number | null;
  /** created before email verification existed: may sign in unverified, but a reset reclaims it */
  legacy: boolean;
  /** set while an admin has disabled the account: no sign-in, no refresh */
  disabledAt: number | null;
}

export interface UserPage {
  items: UserRow[];
  /** opaque; pass it back as `cursor` for the next page, null on the last page */
  nextCursor: string | null;
}

export interface UserStore {
  /** returns false when the email is taken (unique constraint), never throws for that */
  createUser(row: UserRow): Promise<boolean>;
  getUserById(id: string): Promise<UserRow | undefined>;
  getUserByEmail(email: string): Promise<UserRow | undefined>;
  setPasswordHash(userId: string, hash: string): Promise<void>;
  setPasswordResetRequired(userId: string, required: boolean): Promise<void>;
  /**
   * guarded: sets `emailVerifiedAt` only while it is null; true when this call verified the address, so of
   * two racing proofs exactly one learns that the account had never been verified
   */
  markEmailVerified(userId: string, at: number): Promise<boolean>;
  /**
   * One page of users ordered by (created_at, id). `query` matches an email prefix or an exact id;
   * `cursor` is the `nextCursor` of the previous page.
   */
  listUsers(q: { query?: string; limit: number; cursor?: string }): Promise<UserPage>;
}
