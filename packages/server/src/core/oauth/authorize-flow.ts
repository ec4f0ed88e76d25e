/**
 * What happens to a valid authorization request: sign the user in first, ask for consent, or issue a code.
 * The user's own Tessera session (the browser's) is the authentication; the code it yields becomes a new,
 * ordinary Tessera session at the token endpoint.
 */
import { newOpaqueToken } from '../crypto.js';
import type { SessionRow, UserRow } from '../../store/ports/index.js';
import type { RequestContext } from '../sessions.js';
import { responseUrl, type AuthorizationRequest } from './authorize.js';
import { needsConsent } from './consent.js';
import type { OAuthDeps } from './deps.js';

export type AuthorizeOutcome =
  | { kind: 'redirect'; url: string }
  | { kind: 'sign-in' }
  | { kind: 'consent' };

export interface Viewer {
  user: UserRow;
  session: SessionRow;
}

/** A sign-in fresh enough for prompt=login and max_age (OIDC Core §3.1.2.1). */
function freshEnough(r: AuthorizationRequest, session: SessionRow, now: number): boolean {
  if (r.loginAfter !== undefined && session.authTime >= r.loginAfter) return true;
  if (r.prompt.has('login')) return false;
  if (r.maxAge !== undefined && now - session.authTime > r.maxAge * 1000) return false;
  return true;
}

export function errorRedirect(d: OAuthDeps, r: { redirectUri: string; state: string | undefined }, error: string, description: string): { kind: 'redirect'; url: string } {
  return { kind: 'redirect', url: responseUrl(r.redirectUri, d.issuer, { error, error_description: description, state: r.state }) };
}

export async function decide(d: OAuthDeps, r: AuthorizationRequest, viewer: Viewer | undefined, ctx: RequestContext, consented = false): Promise<AuthorizeOutcome> {
  const now = d.clock.now();
  if (!viewer || !freshEnough(r, viewer.session, now)) {
    // prompt=none never shows a page: the client learns it must send the user through sign-in.
    if (r.prompt.has('none')) return errorRedirect(d, r, 'login_required', 'the user is not signed in');
    return { kind: 'sign-in' };
  }
  if (!consented && (await needsConsent(d.oauth, r.client, viewer.user.id, r.scope, r.prompt.has('consent')))) {
    if (r.prompt.has('none')) return errorRedirect(d, r, 'consent_required', 'the user has not approved this client');
    return { kind: 'consent' };
  }
  return { kind: 'redirect', url: await issueCode(d, r, viewer, ctx) };
}

/** A single-use code (`id.secret`, only the secret's hash stored) bound to everything the exchange checks. */
export async function issueCode(d: OAuthDeps, r: AuthorizationRequest, viewer: Viewer, ctx: RequestContext): Promise<string> {
  const code = newOpaqueToken();
  const now = d.clock.now();
  await d.oauth.insertCode({
    id: code.id,
    secretHash: code.hash,
    clientId: r.client.id,
    userId: viewer.user.id,
    redirectUri: r.redirectUri,
    codeChallenge: r.codeChallenge,
    nonce: r.nonce,
    scope: r.scope.join(' '),
    resource: r.resource,
    authTime: viewer.session.authTime,
    amr: viewer.session.amr,
    ip: ctx.ip,
    userAgent: ctx.userAgent,
    createdAt: now,
    expiresAt: now + d.codeTtlSec * 1000,
    usedAt: null,
    sessionId: null,
  });
  return responseUrl(r.redirectUri, d.issuer, { code: code.value, state: r.state });
}
