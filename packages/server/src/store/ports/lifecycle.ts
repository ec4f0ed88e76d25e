import type { SessionRow } from './sessions.js';

/** Account lifecycle: change of email, disabled accounts, erasure and what the admin list shows. */

export interface EmailChangeRow {
  id: string;
  userId: string;
  /** normalized; not reserved: the address may be taken before the link is used */
  newEmail: string;
  secretHash: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

/** what the admin user list shows beside the user row */
export interface UserFacts {
  lastSignInAt: number | null;
  /** a confirmed authenticator app, passkey or phone */
  mfa: boolean;
}

export interface LifecycleStore {
  insertEmailChange(row: EmailChangeRow): Promise<void>;
  getEmailChange(id: string): Promise<EmailChangeRow | undefined>;
  /** consume once: marks used only if unused and unexpired at `now`; the row only for the one caller that won */
  consumeEmailChange(id: string, now: number): Promise<EmailChangeRow | undefined>;
  /** replaces the user's email; false, changing nothing, when another account has it (unique index) */
  setEmail(userId: string, email: string): Promise<boolean>;
  /** null enables */
  setDisabledAt(userId: string, at: number | null): Promise<void>;
  /**
   * Erasure, in one transaction: the user row and everything that names it (sessions and their refresh
   * tokens, factors, recovery codes, challenges, reset and email-change links, OAuth codes, consents and
   * sessions) are deleted; the user's events stay, with their IP and the `personalFields` of their data
   * erased. Revoke the sessions through the feed first: deleted sessions leave no feed row. False when
   * there was no such user.
   */
  eraseUser(userId: string, personalFields: readonly string[]): Promise<boolean>;
  /** every session of a user, ended ones too, newest first (the export of what is held) */
  listSessionsOfUser(userId: string): Promise<SessionRow[]>;
  /** last sign-in and second-factor status of each of these users (every id gets an entry) */
  userFacts(userIds: readonly string[]): Promise<Map<string, UserFacts>>;
}
