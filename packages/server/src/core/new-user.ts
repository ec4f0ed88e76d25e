import type { UserRow } from '../store/ports/index.js';
import { randomId } from './crypto.js';

/**
 * A new account's row, one shape for every way in: self sign-up (unverified until the mailed link is
 * followed), the operator's `tessera users create` (verified: the operator vouches) and admin invitations
 * (unverified until the set-password link, a reset, proves the mailbox). Never legacy: that marks only
 * accounts that existed before verification did.
 */
export function newUserRow(u: { email: string; passwordHash: string; isAdmin?: boolean; verifiedAt: number | null }, now: number): UserRow {
  return {
    id: randomId(),
    email: u.email,
    passwordHash: u.passwordHash,
    isAdmin: u.isAdmin ?? false,
    passwordResetRequired: false,
    createdAt: now,
    emailVerifiedAt: u.verifiedAt,
    legacy: false,
    disabledAt: null,
  };
}
