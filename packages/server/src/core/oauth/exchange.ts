/**
 * `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6): each check names the attack it stops.
 * A successful exchange starts an ordinary Tessera session through SessionService.start (same table,
 * refresh family, feed and risk rules as a first-party sign-in) and records which client holds it.
 */
import { createHash } from 'node:crypto';
import { parseOpaqueToken, safeEqual, sha256 } from '../crypto.js';
import { TesseraError } from '../errors.js';
import type { RequestContext } from '../sessions.js';
import type { AuthCodeRow, OAuthClientRow } from '../../store/ports/oauth.js';
import { isPublicClient, scopesOf } from './clients.js';
import type { OAuthDeps } from './deps.js';
import { issueOAuthTokens, type OAuthTokenResponse } from './issue.js';

const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

export interface CodeExchangeInput {
  client: OAuthClientRow;
  code: string | undefined;
  redirectUri: string | undefined;
  codeVerifier: string | undefined;
  /** the token request's own context (with the DPoP key, when a proof was sent) */
  ctx: RequestContext;
}

const grantError = (reason: string): TesseraError => new TesseraError('invalid_grant', { reason });

export async function exchangeCode(d: OAuthDeps, input: CodeExchangeInput): Promise<OAuthTokenResponse> {
  const parsed = parseOpaqueToken(input.code);
  if (!parsed) throw grantError('malformed code');
  const row = await d.oauth.getCode(parsed.id);
  if (!row || !safeEqual(row.secretHash, sha256(parsed.secret))) throw grantError('unknown code');
  // A code presented twice was intercepted: revoke what the first exchange issued (RFC 6749 §4.1.2).
  if (row.usedAt !== null) return replayed(d, row, input.ctx);
  // Bound to the client it was issued to: a code leaked to another client is worthless there.
  if (row.clientId !== input.client.id) throw grantError('code of another client');
  // Bound to the redirect URI of the request (RFC 6749 §4.1.3): stops code injection through another URI.
  if (input.redirectUri !== row.redirectUri) throw grantError('redirect_uri differs from the authorization request');
  if (d.clock.now() >= row.expiresAt) throw grantError('code expired');
  // PKCE: only the party that started the flow knows the verifier, so a stolen code cannot be redeemed.
  if (input.codeVerifier === undefined || !VERIFIER.test(input.codeVerifier)) throw grantError('missing or malformed code_verifier');
  const computed = createHash('sha256').update(input.codeVerifier, 'ascii').digest('base64url');
  if (!safeEqual(computed, row.codeChallenge)) throw grantError('code_verifier does not match the challenge');
  // Consume once (guarded UPDATE): of two racing exchanges exactly one wins; the other is a replay.
  if (!(await d.oauth.consumeCode(row.id, d.clock.now()))) return replayed(d, { ...row, usedAt: d.clock.now() }, input.ctx);

  const user = await d.store.getUserById(row.userId);
  if (!user) throw grantError('user gone');
  // A confidential client exchanges from its backend: the session records the user's own request (the
  // browser at /oauth/authorize), so the risk rules watch the user's places, not the backend's.
  const sessionCtx: RequestContext = isPublicClient(input.client)
    ? input.ctx
    : { ip: row.ip, userAgent: row.userAgent, geo: d.locate(row.ip), dpopJkt: input.ctx.dpopJkt };
  const scope = scopesOf(row.scope);
  const issued = await d.sessions.start({ user, amr: row.amr, authTime: row.authTime, ctx: sessionCtx, transport: 'bearer', scope: row.scope });
  const recorded = await d.oauth.setCodeSession(row.id, issued.sessionId);
  await d.oauth.insertOAuthSession({ sessionId: issued.sessionId, clientId: input.client.id, userId: user.id, scope: row.scope, resource: row.resource, createdAt: d.clock.now() });
  await d.events.record({ type: 'oauth_authorized', userId: user.id, sessionId: issued.sessionId, ip: input.ctx.ip, data: { client_id: input.client.id, scope: row.scope } });
  // A replay that raced this exchange found no session to revoke yet and marked the code: revoke it now.
  if (!recorded) {
    await d.sessions.revoke(issued.sessionId, 'authorization_code_reused');
    throw grantError('code replayed during the exchange');
  }
  return issueOAuthTokens(d, { user, client: input.client, sessionId: issued.sessionId, scope, resource: row.resource, authTime: row.authTime, amr: row.amr, nonce: row.nonce, jkt: issued.tokenType === 'DPoP' ? input.ctx.dpopJkt : undefined, refreshToken: scope.includes('offline_access') ? issued.refreshToken : undefined });
}

/** Marker left on a replayed code whose first exchange had not recorded its session yet. */
const REPLAYED = '!replayed';

async function replayed(d: OAuthDeps, row: AuthCodeRow, ctx: RequestContext): Promise<never> {
  // Either the first exchange recorded its session (revoke it) or it has not yet: then mark the code, and
  // the exchange, finding the mark, revokes its own session. Both writes are guarded, so one always sees
  // the other.
  let sessionId: string | null = null;
  if (!(await d.oauth.setCodeSession(row.id, REPLAYED))) {
    sessionId = (await d.oauth.getCode(row.id))?.sessionId ?? null;
    if (sessionId !== null && sessionId !== REPLAYED) await d.sessions.revoke(sessionId, 'authorization_code_reused');
  }
  await d.events.record({ type: 'authorization_code_reused', userId: row.userId, sessionId: sessionId === REPLAYED ? null : sessionId, ip: ctx.ip, data: { client_id: row.clientId } });
  throw grantError('authorization code replayed');
}
