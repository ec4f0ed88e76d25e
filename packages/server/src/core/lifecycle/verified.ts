import { TesseraError } from '../errors.js';
import type { UserRow } from '../../store/ports/index.js';

/**
 * Whether the account has proven its mailbox (a followed verification link or a completed reset, see
 * core/verification.ts). Legacy accounts from before verification count as unverified. Email changes, the
 * admin list, the export and the OpenID Connect `email_verified` claim ask here.
 */
export function isEmailVerified(user: UserRow): boolean {
  return user.emailVerifiedAt !== null;
}

/** Unverified accounts never change their email (API.md): an address nobody has proven must not be swapped for another. */
export function requireVerifiedEmail(user: UserRow): void {
  if (!isEmailVerified(user)) throw new TesseraError('email_unverified', { detail: 'Confirm your email address first.', reason: 'email change while unverified' });
}
