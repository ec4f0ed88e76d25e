import type { UserRow } from '../../store/ports/index.js';
import { isEmailVerified } from '../lifecycle/verified.js';

/**
 * The `email` scope's claims (ID token and userinfo), in one place: `email_verified` is the account's
 * verification state. A relying party may link accounts by a verified address, so an unproven one (a legacy
 * account, a link never followed) is never claimed verified.
 */
export function emailClaims(user: UserRow): { email: string; email_verified: boolean } {
  return { email: user.email, email_verified: isEmailVerified(user) };
}
