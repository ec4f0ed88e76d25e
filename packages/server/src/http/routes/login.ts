import type { FastifyReply, FastifyRequest } from 'fastify';
import { accessTokenHash } from '@tessera/sdk';
import type { IssuedTokens, RequestContext } from '../../core/sessions.js';
import type { TesseraServices } from '../../tessera.js';
import { authOf, type HttpAuth } from '../auth.js';
import { clearSessionCookies, setSessionCookies } from '../cookies.js';
import type { ZodApp } from '../schemas/common.js';
import { approveSchema, loginSchema, logoutSchema, registerSchema } from '../schemas/login.js';

/** Send issued tokens in the transport the client chose: JSON for API clients, httpOnly cookies for browsers. */
export function sendTokens(t: TesseraServices, auth: HttpAuth, reply: FastifyReply, tokens: IssuedTokens, transport: 'bearer' | 'cookie'): FastifyReply {
  void reply.header('Cache-Control', 'no-store');
  if (transport === 'cookie') {
    setSessionCookies(reply, auth.names, t.config.TESSERA_COOKIE_SECURE, {
      accessToken: tokens.accessToken,
      accessTtlSec: t.config.TESSERA_ACCESS_TTL,
      refreshToken: tokens.refreshToken,
      refreshTtlSec: t.config.TESSERA_REFRESH_TTL,
      csrf: auth.csrf.issue(tokens.sessionId),
      ath: tokens.tokenType === 'DPoP' ? accessTokenHash(tokens.accessToken) : undefined,
    });
    // No token in the body: script on the page (or an XSS payload) never sees one.
    return reply.send({ expires_in: tokens.expiresIn, session_id: tokens.sessionId });
  }
  return reply.send({
    access_token: tokens.accessToken,
    token_type: tokens.tokenType,
    expires_in: tokens.expiresIn,
    refresh_token: tokens.refreshToken,
    session_id: tokens.sessionId,
  });
}

export async function loginContext(auth: HttpAuth, request: FastifyRequest, transport: 'bearer' | 'cookie'): Promise<RequestContext> {
  if (transport === 'cookie') auth.checkOrigin(request); // login CSRF: a foreign page must not sign a victim into the attacker's account
  // With a proof, a cookie-mode session is bound to the page's key like an API client's (cnf.jkt); the
  // proof must carry a recent server nonce. Without one (no WebCrypto), the session is unbound.
  // TESSERA_BROWSER_KEY_BINDING off: a browser's proof is not looked at, and its session stays unbound.
  if (transport === 'cookie' && !auth.bindsBrowsers) return auth.context(request);
  const jkt = await auth.dpop(request, transport === 'cookie');
  return auth.context(request, jkt);
}

export function loginRoutes(app: ZodApp, t: TesseraServices, auth: HttpAuth): void {
  app.post('/v1/accounts', { schema: registerSchema, config: { limit: 'signup' } }, async (request, reply) => {
    // account enumeration: a taken address gets the same answer; its owner is mailed instead (core/signup.ts)
    await t.signUp.signUp(request.body, { ip: request.clientIp });
    return reply.code(202).send({ status: 'verification_sent' });
  });

  app.post('/v1/login', { schema: loginSchema }, async (request, reply) => {
    const { body } = request;
    const transport = body.transport ?? 'bearer';
    const ctx = await loginContext(auth, request, transport);
    const result = await t.accounts.login({ email: body.email, password: body.password, ctx, transport });
    if (result.kind === 'mfa') {
      return reply.header('Cache-Control', 'no-store').send({ mfa_required: true, mfa_token: result.mfaToken, methods: result.methods });
    }
    return sendTokens(t, auth, reply, result.tokens, transport);
  });

  // a mailed approval link: its address may sign in past the account's daily failure cap
  app.post('/v1/login/approve', { schema: approveSchema, config: { limit: 'forgot' } }, async (request, reply) => {
    const { token } = request.body;
    await t.approvals.approve(token, { ip: request.clientIp });
    return reply.code(204).send();
  });

  app.post('/v1/logout', { schema: logoutSchema, preHandler: auth.required }, async (request, reply) => {
    const a = authOf(request);
    await t.sessions.revoke(a.session.id, 'logout');
    await t.events.record({ type: 'logout', userId: a.user.id, sessionId: a.session.id, ip: request.clientIp });
    clearSessionCookies(reply, auth.names, t.config.TESSERA_COOKIE_SECURE);
    return reply.code(204).send();
  });
}
