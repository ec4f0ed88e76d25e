/**
 * `POST /v1/token`: the first-party refresh (bearer or cookie) and the OAuth grants of registered clients
 * (authorization_code, client_credentials, and the refresh of a session a client holds).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TesseraError } from '../../core/errors.js';
import { parseBasic, type PresentedClientAuth } from '../../core/oauth/clients.js';
import type { OAuthTokenResponse } from '../../core/oauth/issue.js';
import type { RefreshFamily } from '../../store/ports/index.js';
import type { TesseraServices } from '../../tessera.js';
import type { HttpAuth } from '../auth.js';
import type { ZodApp } from '../schemas/common.js';
import { TokenBody, tokenSchema } from '../schemas/login.js';
import { sendTokens } from './login.js';
import type { z } from 'zod';

type Body = z.infer<typeof TokenBody>;

function sendOAuth(reply: FastifyReply, tokens: OAuthTokenResponse): FastifyReply {
  // RFC 6749 §5.1: token responses are never cached
  return reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache').send(tokens);
}

/** The first-party refresh of v1: a refresh token in the body, or the refresh cookie with the CSRF header. */
async function firstPartyRefresh(t: TesseraServices, auth: HttpAuth, request: FastifyRequest, reply: FastifyReply, body: Body, read: RefreshFamily | undefined): Promise<FastifyReply> {
  const cookieToken = request.cookies[auth.names.refresh];
  const fromCookie = body.refresh_token === undefined && cookieToken !== undefined;
  const presented = body.refresh_token ?? cookieToken;
  if (!presented) throw new TesseraError('invalid_request', { detail: 'refresh_token is required.' });
  const family = fromCookie ? await t.sessions.refreshFamily(presented) : read;
  if (fromCookie) {
    // The refresh cookie rides along on any request to /v1/token, so it needs the session-bound CSRF header.
    if (!family) throw new TesseraError('invalid_grant', { reason: 'unknown refresh cookie' });
    auth.checkCsrf(request, family.session.id);
  }
  // Any valid proof is accepted here; SessionService.refresh refuses one whose key is not the session's.
  // The browser's (refresh cookie) must carry a recent server nonce, like every cookie-mode proof.
  const jkt = await auth.dpop(request, fromCookie);
  const tokens = await t.sessions.refresh(presented, auth.context(request, jkt), family);
  return sendTokens(t, auth, reply, tokens, fromCookie ? 'cookie' : 'bearer');
}

const FIELDS: ReadonlySet<string> = new Set(Object.keys(TokenBody.shape));

/**
 * RFC 6749 §3.2 for form bodies: unrecognized parameters are ignored and empty ones count as omitted (JSON
 * bodies stay strict). Requests of OAuth clients are marked before validation, so even a schema refusal
 * reaches them as application/json with `error`.
 */
async function prepare(request: FastifyRequest): Promise<void> {
  const body = request.body;
  if (!body || typeof body !== 'object') return;
  if ((request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    request.body = Object.fromEntries(Object.entries(body).filter(([k, v]) => FIELDS.has(k) && v !== ''));
  }
  const b = request.body as Record<string, unknown>;
  if (b.grant_type === 'authorization_code' || b.grant_type === 'client_credentials' || b.client_secret !== undefined || parseBasic(request.headers.authorization)) {
    request.oauthProtocol = true;
  }
}

export function tokenRoutes(app: ZodApp, t: TesseraServices, auth: HttpAuth): void {
  app.post('/v1/token', { schema: tokenSchema, preValidation: prepare }, async (request, reply) => {
    const { body } = request;
    const basic = parseBasic(request.headers.authorization);
    const client: PresentedClientAuth = { basic, bodyId: body.client_id, bodySecret: body.client_secret };
    const presentsClient = basic !== undefined || body.client_secret !== undefined;
    const oauth = async () => {
      request.oauthProtocol = true;
      if (body.transport === 'cookie') throw new TesseraError('invalid_request', { detail: 'OAuth clients use the bearer transport.' });
      return t.oauth.authenticateClient(client);
    };

    if (body.grant_type === 'authorization_code') {
      const c = await oauth();
      // DPoP at the token endpoint (RFC 9449 §5): the session and its tokens are bound to the proof's key.
      const jkt = await auth.dpop(request);
      return sendOAuth(reply, await t.oauth.exchangeCode({ client: c, code: body.code, redirectUri: body.redirect_uri, codeVerifier: body.code_verifier, ctx: auth.context(request, jkt) }));
    }
    if (body.grant_type === 'client_credentials') {
      const c = await oauth();
      const jkt = await auth.dpop(request);
      return sendOAuth(reply, await t.oauth.clientCredentials(c, body.scope, body.resource, jkt));
    }
    if (body.grant_type !== 'refresh_token') {
      if (presentsClient || body.client_id !== undefined) request.oauthProtocol = true;
      throw new TesseraError('unsupported_grant_type');
    }
    // A session created through the code flow is refreshed by its client only, with the client's own audience.
    // one read for the token, its session and user, and the client holding the session (if any)
    const family = body.refresh_token !== undefined ? await t.sessions.refreshFamily(body.refresh_token) : undefined;
    const held = family?.oauthClientId != null ? await t.oauth.heldBy(family.session.id) : undefined;
    if (held || presentsClient) {
      const c = await oauth();
      if (!held || body.refresh_token === undefined) throw new TesseraError('invalid_grant', { reason: 'not a refresh token of this client' });
      const jkt = await auth.dpop(request);
      return sendOAuth(reply, await t.oauth.refresh(c, held, body.refresh_token, auth.context(request, jkt)));
    }
    return firstPartyRefresh(t, auth, request, reply, body, family);
  });
}
