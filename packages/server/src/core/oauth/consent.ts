import type { OAuthClientRow, OAuthStore } from '../../store/ports/oauth.js';
import { scopesOf } from './clients.js';

/**
 * Whether the user must be asked: first-party clients never ask; others ask once per user, client and set
 * of scopes (a remembered consent covers any subset of what was granted), and again on prompt=consent.
 */
export async function needsConsent(oauth: Pick<OAuthStore, 'getConsent'>, client: OAuthClientRow, userId: string, scope: string[], forced: boolean): Promise<boolean> {
  if (client.firstParty) return false;
  if (forced) return true;
  const remembered = await oauth.getConsent(userId, client.id);
  if (!remembered) return true;
  const granted = new Set(scopesOf(remembered.scope));
  return !scope.every((s) => granted.has(s));
}

/** Remember a consent, widening what was granted before. */
export async function rememberConsent(oauth: Pick<OAuthStore, 'getConsent' | 'putConsent'>, clientId: string, userId: string, scope: string[], now: number): Promise<void> {
  const before = await oauth.getConsent(userId, clientId);
  const all = new Set([...scopesOf(before?.scope ?? ''), ...scope]);
  await oauth.putConsent({ userId, clientId, scope: [...all].join(' '), createdAt: now });
}
