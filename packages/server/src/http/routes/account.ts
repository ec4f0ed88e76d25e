import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { TesseraError } from '../../core/errors.js';
import { eventToJson } from '../../core/events.js';
import type { SessionRow } from '../../store/ports/index.js';
import type { Tessera } from '../../tessera.js';
import { authOf, type HttpAuth } from '../auth.js';
import { clearSessionCookies } from '../cookies.js';
import { Email, Password, jsonSchema } from '../schema.js';

const ChangeBody = z.strictObject({ current_password: Password, new_password: Password });
const ForgotBody = z.strictObject({ email: Email });
const ResetBody = z.strictObject({ token: z.string().min(1).max(512), new_password: Password });
const SessionParams = z.strictObject({ id: z.string().min(1).max(64) });
const KeepQuery = z.strictObject({ keep: z.enum(['current']).optional() });
const EventsQuery = z.strictObject({ limit: z.string().regex(/^\d{1,3}$/).optional(), before: z.string().regex(/^\d{1,15}$/).optional() });

export function sessionToJson(s: SessionRow, currentId?: string): Record<string, unknown> {
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

export function accountRoutes(app: FastifyInstance, t: Tessera, auth: HttpAuth): void {
  const guarded = { preHandler: auth.required };

  app.get('/v1/me', { ...guarded, schema: { tags: ['account'] } }, async (request) => {
    const { user } = authOf(request);
    const totp = await t.store.getTotp(user.id);
    const passkeys = await t.store.listWebauthnCredentials(user.id);
    return {
      id: user.id,
      email: user.email,
      roles: user.isAdmin ? ['admin'] : [],
      mfa: {
        totp: totp?.confirmedAt != null,
        webauthn: passkeys.length > 0,
        passkeys: passkeys.length,
        sms: await t.mfa.phone.maskedPhone(user.id),
        recovery_codes_left: await t.store.countRecoveryCodes(user.id),
      },
      created_at: new Date(user.createdAt).toISOString(),
    };
  });

  app.get('/v1/sessions', { ...guarded, schema: { tags: ['account'] } }, async (request) => {
    const a = authOf(request);
    const sessions = await t.store.listLiveSessions(a.user.id, t.clock.now());
    return sessions.map((s) => sessionToJson(s, a.session.id));
  });

  app.delete('/v1/sessions/:id', { ...guarded, schema: { tags: ['account'], params: jsonSchema(SessionParams) } }, async (request, reply) => {
    const a = authOf(request);
    const { id } = request.params as z.infer<typeof SessionParams>;
    const target = await t.store.getSession(id);
    // Someone else's session id answers exactly like an unknown one: no probing of other users' sessions.
    if (!target || target.userId !== a.user.id) throw new TesseraError('not_found');
    if (await t.sessions.revoke(id, 'user_revoked')) {
      await t.events.record({ type: 'session_revoked', userId: a.user.id, sessionId: id, ip: request.clientIp, data: { by_session: a.session.id } });
    }
    if (id === a.session.id) clearSessionCookies(reply, auth.names, t.config.TESSERA_COOKIE_SECURE);
    return reply.code(204).send();
  });

  app.delete('/v1/sessions', { ...guarded, schema: { tags: ['account'], querystring: jsonSchema(KeepQuery) } }, async (request, reply) => {
    const a = authOf(request);
    const { keep } = request.query as z.infer<typeof KeepQuery>;
    const ids = await t.sessions.revokeAll(a.user.id, 'user_revoked_all', keep === 'current' ? a.session.id : undefined);
    await t.events.record({ type: 'sessions_revoked', userId: a.user.id, sessionId: a.session.id, ip: request.clientIp, data: { count: ids.length, kept_current: keep === 'current' } });
    if (keep !== 'current') clearSessionCookies(reply, auth.names, t.config.TESSERA_COOKIE_SECURE);
    return reply.code(204).send();
  });

  app.get('/v1/events', { ...guarded, schema: { tags: ['account'], querystring: jsonSchema(EventsQuery) } }, async (request) => {
    const a = authOf(request);
    const q = request.query as z.infer<typeof EventsQuery>;
    const rows = await t.events.list({ userId: a.user.id, limit: q.limit ? Number(q.limit) : 50, ...(q.before ? { beforeId: Number(q.before) } : {}) });
    return rows.map(eventToJson);
  });

  app.post('/v1/password/change', { ...guarded, schema: { tags: ['password'], body: jsonSchema(ChangeBody) } }, async (request, reply) => {
    const a = authOf(request);
    auth.recent(a);
    const body = request.body as z.infer<typeof ChangeBody>;
    await t.accounts.changePassword(a.user, a.session.id, body.current_password, body.new_password, auth.context(request));
    return reply.code(204).send();
  });

  app.post('/v1/password/forgot', { schema: { tags: ['password'], body: jsonSchema(ForgotBody) }, config: { limit: 'forgot' } }, async (request, reply) => {
    const { email } = request.body as z.infer<typeof ForgotBody>;
    const ip = request.clientIp;
    // Answer first, work after: the response (body and timing) is identical whether or not the account
    // exists, so this endpoint cannot be used to enumerate accounts.
    setImmediate(() => {
      t.accounts.forgotPassword(email, { ip }).catch((err: unknown) => request.log.error({ err }, 'password reset mail failed'));
    });
    return reply.code(202).send({ status: 'accepted', detail: 'If an account exists for this email, a reset link is on its way.' });
  });

  app.post('/v1/password/reset', { schema: { tags: ['password'], body: jsonSchema(ResetBody) }, config: { limit: 'forgot' } }, async (request, reply) => {
    const body = request.body as z.infer<typeof ResetBody>;
    await t.accounts.resetPassword(body.token, body.new_password, { ip: request.clientIp });
    return reply.code(204).send();
  });
}
