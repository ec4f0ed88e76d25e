import { TesseraError } from '../../core/errors.js';
import type { TesseraServices } from '../../tessera.js';
import { authOf, type HttpAuth } from '../auth.js';
import { eventJson } from '../schemas/account.js';
import { adminEventsSchema, adminRequireResetSchema, adminRevokeSessionsSchema, adminUnlockSchema, adminUserSchema } from '../schemas/admin.js';
import type { ZodApp } from '../schemas/common.js';
import { sessionToJson } from './account.js';

export function adminRoutes(app: ZodApp, t: TesseraServices, auth: HttpAuth): void {
  const admin = { preHandler: auth.admin };

  const userOr404 = async (id: string) => {
    const user = await t.accounts.getUser(id);
    if (!user) throw new TesseraError('not_found');
    return user;
  };

  app.get('/v1/admin/events', { ...admin, schema: adminEventsSchema }, async (request) => {
    const q = request.query;
    // an unknown user matches no events (not all of them)
    const userId = q.user ? ((await t.accounts.findUser(q.user))?.id ?? '-') : undefined;
    const rows = await t.events.list({
      ...(userId ? { userId } : {}),
      ...(q.type ? { type: q.type } : {}),
      limit: q.limit ? Number(q.limit) : 100,
      ...(q.before ? { beforeId: Number(q.before) } : {}),
    });
    return rows.map(eventJson);
  });

  app.get('/v1/admin/users/:id', { ...admin, schema: adminUserSchema }, async (request) => {
    const user = await userOr404(request.params.id);
    const sessions = await t.sessions.listLive(user.id);
    return {
      id: user.id,
      email: user.email,
      roles: user.isAdmin ? ['admin'] : [],
      password_reset_required: user.passwordResetRequired,
      created_at: new Date(user.createdAt).toISOString(),
      sessions: sessions.map((s) => sessionToJson(s)),
    };
  });

  app.post('/v1/admin/users/:id/revoke-sessions', { ...admin, schema: adminRevokeSessionsSchema }, async (request, reply) => {
    const user = await userOr404(request.params.id);
    const ids = await t.sessions.revokeAll(user.id, 'admin_revoked');
    await t.events.record({ type: 'sessions_revoked', userId: user.id, ip: request.clientIp, data: { by_admin: authOf(request).user.id, count: ids.length } });
    return reply.code(204).send();
  });

  app.post('/v1/admin/users/:id/require-password-reset', { ...admin, schema: adminRequireResetSchema }, async (request, reply) => {
    const user = await userOr404(request.params.id);
    await t.accounts.requirePasswordReset(user.id);
    await t.events.record({ type: 'password_reset_required', userId: user.id, ip: request.clientIp, data: { by_admin: authOf(request).user.id } });
    return reply.code(204).send();
  });

  app.post('/v1/admin/users/:id/unlock', { ...admin, schema: adminUnlockSchema }, async (request, reply) => {
    const user = await userOr404(request.params.id);
    await t.guard.unlock(user.email);
    await t.events.record({ type: 'account_unlocked', userId: user.id, ip: request.clientIp, data: { by_admin: authOf(request).user.id } });
    return reply.code(204).send();
  });
}
