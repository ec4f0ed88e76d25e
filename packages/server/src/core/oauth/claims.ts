import type { UserRow } from '../../store/ports/index.js';

/**
 * The `email` scope's claims (ID token and userinfo), in one place. `email_verified` stays false until
 * verified email lands (then: the user's verification state, core/lifecycle/verified.ts): a relying party
 * may link accounts by a verified address, so an unproven one is never claimed verified.
 */
export function emailClaims(user: UserRow): { email: string; email_verified: boolean } {
  return { email: user.email, email_verified: false };
}
