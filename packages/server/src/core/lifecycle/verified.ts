import { TesseraError } from '../errors.js';
import type { UserRow } from '../../store/ports/index.js';

/**
 * Whether the account has proven its mailbox. Email changes and the admin list's `email_verified` ask here.
 * verified-email: joined when wave/verify lands — until then every account counts as verified.
 */
export function isEmailVerified(user: UserRow): boolean {
  void user;
  return true;
}

/**
 * Unverified accounts never change their email (API.md): an address nobody has proven must not be swapped
 * for another. verified-email: joined when wave/verify lands — its code is `email_unverified`.
 */
export function requireVerifiedEmail(user: UserRow): void {
  if (!isEmailVerified(user)) throw new TesseraError('forbidden', { detail: 'Verify your email address first.', reason: 'email unverified' });
}
