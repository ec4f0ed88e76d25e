import type { FastifyRequest } from 'fastify';
import { TesseraError } from '../../core/errors.js';
import { isEmailVerified } from '../../core/lifecycle/verified.js';
import type { TesseraServices } from '../../tessera.js';
import { authOf, type HttpAuth } from '../auth.js';
import { eventJson } from '../schemas/account.js';
import { adminEventsSchema, adminRequireResetSchema, adminRevokeSessionsSchema, adminUnlockSchema, adminUserSchema } from '../schemas/admin.js';
import type { ZodApp } from '../schemas/common.js';
import { sessionToJson } from './account.js';
import { adminUserRoutes } from './admin-users.js';

/**
 * A second factor in a session's `amr` (RFC 8176): `mfa` after a password plus a second step, or a
 * passkey with user verification, which is two factors in itself (possession and PIN or biometrics).
 */
export function hasSecondFactor(amr: readonly string[]): boolean {
  return amr.includes('mfa') || ((amr.includes('hwk') || amr.includes('swk')) && amr.includes('user'));
}

/**
 * Every admin call needs a sign-in within 5 minutes and, with TESSERA_ADMIN_REQUIRE_MFA, a second factor:
 * a stolen, leaked or forgotten admin session (days old, or a phished password alone) cannot sign users
 * out, force resets or unlock accounts.
 */
export function adminGuard(t: TesseraServices, auth: HttpAuth) {
  const stepUp = async (request: FastifyRequest): Promise<void> => {
    const a = authOf(request);
    auth.recent(a);
    if (t.config.TESSERA_ADMIN_REQUIRE_MFA && !hasSecondFactor(a.session.amr)) {
      throw new TesseraError('mfa_required', { detail: 'Admin actions need a sign-in with a second factor.', reason: `admin session amr ${a.session.amr.join('+')}` });
    }
  };
  return { preHandler: [auth.admin, stepUp] };
}

export function adminRoutes(app: ZodApp, t: TesseraServices, auth: HttpAuth): void {
  const admin = adminGuard(t, auth);
  adminUserRoutes(app, t, admin);

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
      email_verified: isEmailVerified(user),
      disabled: user.disabledAt !== null,
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
