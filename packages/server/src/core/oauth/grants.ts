/**
 * `refresh_token` for sessions an OAuth client holds, and `client_credentials` for service clients.
 * Refresh goes through SessionService.refresh: the same rotation, reuse detection and grace window as a
 * first-party session; only the access token is re-minted with the client's audience and scope.
 */
import { randomId } from '../crypto.js';
import { TesseraError } from '../errors.js';
import type { RequestContext } from '../sessions.js';
import type { OAuthClientRow } from '../../store/ports/oauth.js';
import { isPublicClient, scopesOf } from './clients.js';
import type { OAuthDeps } from './deps.js';
import { issueOAuthTokens, type OAuthTokenResponse } from './issue.js';

export async function refreshOAuthSession(d: OAuthDeps, client: OAuthClientRow, sessionId: string, presented: string, ctx: RequestContext): Promise<OAuthTokenResponse> {
  const held = await d.oauth.getOAuthSession(sessionId);
  // A refresh token is bound to the client it was issued to (RFC 6749 §6): another client cannot use it.
  if (!held || held.clientId !== client.id) throw new TesseraError('invalid_grant', { reason: 'refresh token of another client' });
  const session = await d.store.getSession(sessionId);
  if (!session) throw new TesseraError('invalid_grant', { reason: 'session gone' });
  // A confidential client refreshes from its backend: not a device change. The session keeps the user's
  // own place and device; the client's secret is what proves the caller. Public clients run on the user's
  // device, so their requests are compared as a first-party client's are.
  const refreshCtx: RequestContext = isPublicClient(client)
    ? ctx
    : { ip: session.ip ?? ctx.ip, userAgent: session.userAgent, geo: session.geo, dpopJkt: ctx.dpopJkt };
  const issued = await d.sessions.refresh(presented, refreshCtx);
  const user = await d.store.getUserById(session.userId);
  if (!user) throw new TesseraError('invalid_grant', { reason: 'user gone' });
  return issueOAuthTokens(d, {
    user,
    client,
    sessionId,
    scope: scopesOf(held.scope),
    resource: held.resource,
    authTime: session.authTime,
    amr: session.amr,
    nonce: null,
    jkt: session.dpopJkt ?? undefined,
    refreshToken: issued.refreshToken,
  });
}

/** RFC 6749 §4.4: a service acting for itself. `sub` is the client; there is no user, session or refresh token. */
export async function clientCredentials(d: OAuthDeps, client: OAuthClientRow, scope: string | undefined, resource: string | undefined, jkt: string | undefined): Promise<OAuthTokenResponse> {
  // Public clients hold no secret, so anyone could claim to be one: they never get tokens of their own.
  if (client.type !== 'service' || isPublicClient(client)) throw new TesseraError('unauthorized_client', { reason: `${client.type} client asked for client_credentials` });
  const requested = scopesOf(scope ?? '');
  const granted = requested.filter((s) => client.scopes.includes(s));
  if (requested.length > 0 && granted.length === 0) throw new TesseraError('invalid_scope', { reason: 'no requested scope is allowed' });
  if (resource !== undefined && !(await d.oauth.getOAuthClientByAudience(resource))) throw new TesseraError('invalid_target', { reason: 'unknown resource' });
  const access = await d.jwts.accessToken({
    sub: client.id,
    // The SDK requires a session id; a service token's own id lets the feed revoke it like any session.
    sid: `svc_${randomId()}`,
    clientId: client.id,
    audience: resource ?? d.defaultAudience,
    scope: granted.join(' '),
    authTime: d.clock.now(),
    amr: [],
    roles: [],
    jkt,
  });
  return { access_token: access.token, token_type: jkt !== undefined ? 'DPoP' : 'Bearer', expires_in: access.expiresIn, scope: granted.join(' ') };
}
