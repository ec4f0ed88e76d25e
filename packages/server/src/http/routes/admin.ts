import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { TesseraError } from '../../core/errors.js';
import { eventToJson } from '../../core/events.js';
import type { Tessera } from '../../tessera.js';
import { authOf, type HttpAuth } from '../auth.js';
import { jsonSchema } from '../schema.js';
import { sessionToJson } from './account.js';

const EventsQuery = z.strictObject({
  type: z.string().max(64).optional(),
  user: z.string().max(320).optional(),
  limit: z.string().regex(/^\d{1,3}$/).optional(),
  before: z.string().regex(/^\d{1,15}$/).optional(),
});
const UserParams = z.strictObject({ id: z.string().min(1).max(64) });

/**
 * A second factor in a session's `amr` (RFC 8176): `mfa` after a password plus a second step, or a
 * passkey with user verification, which is two factors in itself (possession and PIN or biometrics).
 */
export function hasSecondFactor(amr: readonly string[]): boolean {
  return amr.includes('mfa') || ((amr.includes('hwk') || amr.includes('swk')) && amr.includes('user'));
}

export function adminRoutes(app: FastifyInstance, t: Tessera, auth: HttpAuth): void {
  /**
   * Every admin call needs a sign-in within 5 minutes and, with TESSERA_ADMIN_REQUIRE_MFA, a second factor:
   * a stolen, leaked or forgotten admin session (days old, or a phished password alone) cannot sign users
   * out, force resets or unlock accounts.
   */
  const stepUp = async (request: FastifyRequest): Promise<void> => {
    const a = authOf(request);
    auth.recent(a);
    if (t.config.TESSERA_ADMIN_REQUIRE_MFA && !hasSecondFactor(a.session.amr)) {
      throw new TesseraError('mfa_required', { detail: 'Admin actions need a sign-in with a second factor.', reason: `admin session amr ${a.session.amr.join('+')}` });
    }
  };
  const admin = { preHandler: [auth.admin, stepUp] };

  const userOr404 = async (id: string) => {
    const user = await t.store.getUserById(id);
    if (!user) throw new TesseraError('not_found');
    return user;
  };

  app.get('/v1/admin/events', { ...admin, schema: { tags: ['admin'], querystring: jsonSchema(EventsQuery) } }, async (request) => {
    const q = request.query as z.infer<typeof EventsQuery>;
    // an unknown user matches no events (not all of them)
    const userId = q.user ? ((await t.accounts.findUser(q.user))?.id ?? '-') : undefined;
    const rows = await t.events.list({
      ...(userId ? { userId } : {}),
      ...(q.type ? { type: q.type } : {}),
      limit: q.limit ? Number(q.limit) : 100,
      ...(q.before ? { beforeId: Number(q.before) } : {}),
    });
    return rows.map(eventToJson);
  });

  app.get('/v1/admin/users/:id', { ...admin, schema: { tags: ['admin'], params: jsonSchema(UserParams) } }, async (request) => {
    const user = await userOr404((request.params as z.infer<typeof UserParams>).id);
    const sessions = await t.store.listLiveSessions(user.id, t.clock.now());
    return {
      id: user.id,
      email: user.email,
      roles: user.isAdmin ? ['admin'] : [],
      password_reset_required: user.passwordResetRequired,
      created_at: new Date(user.createdAt).toISOString(),
      sessions: sessions.map((s) => sessionToJson(s)),
    };
  });

  app.post('/v1/admin/users/:id/revoke-sessions', { ...admin, schema: { tags: ['admin'], params: jsonSchema(UserParams) } }, async (request, reply) => {
    const user = await userOr404((request.params as z.infer<typeof UserParams>).id);
    const ids = await t.sessions.revokeAll(user.id, 'admin_revoked');
    await t.events.record({ type: 'sessions_revoked', userId: user.id, ip: request.clientIp, data: { by_admin: authOf(request).user.id, count: ids.length } });
    return reply.code(204).send();
  });

  app.post('/v1/admin/users/:id/require-password-reset', { ...admin, schema: { tags: ['admin'], params: jsonSchema(UserParams) } }, async (request, reply) => {
    const user = await userOr404((request.params as z.infer<typeof UserParams>).id);
    await t.store.setPasswordResetRequired(user.id, true);
    await t.sessions.revokeAll(user.id, 'password_reset_required');
    await t.events.record({ type: 'password_reset_required', userId: user.id, ip: request.clientIp, data: { by_admin: authOf(request).user.id } });
    return reply.code(204).send();
  });

  app.post('/v1/admin/users/:id/unlock', { ...admin, schema: { tags: ['admin'], params: jsonSchema(UserParams) } }, async (request, reply) => {
    const user = await userOr404((request.params as z.infer<typeof UserParams>).id);
    await t.guard.unlock(user.email);
    await t.events.record({ type: 'account_unlocked', userId: user.id, ip: request.clientIp, data: { by_admin: authOf(request).user.id } });
    return reply.code(204).send();
  });
}
