import { TesseraError } from '../../core/errors.js';
import type { SessionRow } from '../../store/ports/index.js';
import type { TesseraServices } from '../../tessera.js';
import { authOf, type HttpAuth } from '../auth.js';
import { clearSessionCookies } from '../cookies.js';
import {
  changePasswordSchema,
  eventJson,
  eventsSchema,
  forgotPasswordSchema,
  meSchema,
  resetPasswordSchema,
  revokeSessionSchema,
  revokeSessionsSchema,
  sessionsSchema,
  type SessionJson,
} from '../schemas/account.js';
import type { ZodApp } from '../schemas/common.js';

export function sessionToJson(s: SessionRow, currentId?: string): SessionJson {
  return {
    id: s.id,
    current: s.id === currentId,
    created_at: new Date(s.createdAt).toISOString(),
    last_seen_at: new Date(s.lastSeenAt).toISOString(),
    ip: s.ip,
    location: { city: s.geo?.city ?? null, country: s.geo?.country ?? null },
    user_agent: s.userAgent,
    amr: s.amr,
    transport: s.transport,
    dpop_bound: s.dpopJkt !== null,
  };
}

export function accountRoutes(app: ZodApp, t: TesseraServices, auth: HttpAuth): void {
  const guarded = { preHandler: auth.required };

  app.get('/v1/me', { ...guarded, schema: meSchema }, async (request) => {
    const { user, mfa } = authOf(request);
    return {
      id: user.id,
      email: user.email,
      email_verified: user.emailVerifiedAt !== null,
      roles: user.isAdmin ? ['admin'] : [],
      mfa: {
        totp: mfa.totp,
        webauthn: mfa.passkeys > 0,
        passkeys: mfa.passkeys,
        sms: mfa.sms,
        recovery_codes_left: mfa.recoveryCodesLeft,
      },
      created_at: new Date(user.createdAt).toISOString(),
    };
  });

  app.get('/v1/sessions', { ...guarded, schema: sessionsSchema }, async (request) => {
    const a = authOf(request);
    const sessions = await t.sessions.listLive(a.user.id);
    return sessions.map((s) => sessionToJson(s, a.session.id));
  });

  app.delete('/v1/sessions/:id', { ...guarded, schema: revokeSessionSchema }, async (request, reply) => {
    const a = authOf(request);
    const { id } = request.params;
    const target = await t.sessions.get(id);
    // Someone else's session id answers exactly like an unknown one: no probing of other users' sessions.
    if (!target || target.userId !== a.user.id) throw new TesseraError('not_found');
    if (await t.sessions.revoke(id, 'user_revoked')) {
      await t.events.record({ type: 'session_revoked', userId: a.user.id, sessionId: id, ip: request.clientIp, data: { by_session: a.session.id } });
    }
    if (id === a.session.id) clearSessionCookies(reply, auth.names, t.config.TESSERA_COOKIE_SECURE);
    return reply.code(204).send();
  });

  app.delete('/v1/sessions', { ...guarded, schema: revokeSessionsSchema }, async (request, reply) => {
    const a = authOf(request);
    const { keep } = request.query;
    const ids = await t.sessions.revokeAll(a.user.id, 'user_revoked_all', keep === 'current' ? a.session.id : undefined);
    await t.events.record({ type: 'sessions_revoked', userId: a.user.id, sessionId: a.session.id, ip: request.clientIp, data: { count: ids.length, kept_current: keep === 'current' } });
    if (keep !== 'current') clearSessionCookies(reply, auth.names, t.config.TESSERA_COOKIE_SECURE);
    return reply.code(204).send();
  });

  app.get('/v1/events', { ...guarded, schema: eventsSchema }, async (request) => {
    const a = authOf(request);
    const q = request.query;
    const rows = await t.events.list({ userId: a.user.id, limit: q.limit ? Number(q.limit) : 50, ...(q.before ? { beforeId: Number(q.before) } : {}) });
    return rows.map(eventJson);
  });
  passwordRoutes(app, t, auth);
}

/** Change (signed in, recently), forgot and reset of the password. */
function passwordRoutes(app: ZodApp, t: TesseraServices, auth: HttpAuth): void {
  const guarded = { preHandler: auth.required };

  app.post('/v1/password/change', { ...guarded, schema: changePasswordSchema }, async (request, reply) => {
    const a = authOf(request);
    auth.recent(a);
    const { body } = request;
    await t.accounts.changePassword(a.user, a.session.id, body.current_password, body.new_password, auth.context(request));
    return reply.code(204).send();
  });

  app.post('/v1/password/forgot', { schema: forgotPasswordSchema, config: { limit: 'forgot' } }, async (request, reply) => {
    const { email } = request.body;
    const ip = request.clientIp;
    // Answer first, work after: the response (body and timing) is identical whether or not the account
    // exists, so this endpoint cannot be used to enumerate accounts.
    setImmediate(() => {
      t.accounts.forgotPassword(email, { ip }).catch((err: unknown) => request.log.error({ err }, 'password reset mail failed'));
    });
    return reply.code(202).send({ status: 'accepted', detail: 'If an account exists for this email, a reset link is on its way.' });
  });

  app.post('/v1/password/reset', { schema: resetPasswordSchema, config: { limit: 'forgot' } }, async (request, reply) => {
    const { body } = request;
    await t.accounts.resetPassword(body.token, body.new_password, { ip: request.clientIp });
    return reply.code(204).send();
  });
}
