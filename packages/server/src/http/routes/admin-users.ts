import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { TesseraError } from '../../core/errors.js';
import type { TesseraServices } from '../../tessera.js';
import { authOf } from '../auth.js';
import { adminCreateUserSchema, adminDeleteUserSchema, adminDisableSchema, adminEnableSchema, adminUsersSchema } from '../schemas/admin.js';
import type { ZodApp } from '../schemas/common.js';

/** User management (API.md "Administration"); `admin` is the admin guard of routes/admin.ts. */
export function adminUserRoutes(app: ZodApp, t: TesseraServices, admin: { preHandler: preHandlerAsyncHookHandler[] }): void {
  const userOr404 = async (id: string) => {
    const user = await t.accounts.getUser(id);
    if (!user) throw new TesseraError('not_found');
    return user;
  };
  const by = (request: FastifyRequest) => ({ ip: request.clientIp, adminId: authOf(request).user.id });

  app.get('/v1/admin/users', { ...admin, schema: adminUsersSchema }, async (request) => {
    const q = request.query;
    const limit = Math.min(200, Math.max(1, q.limit ? Number(q.limit) : 50));
    let page;
    try {
      page = await t.adminUsers.list({ limit, ...(q.query ? { query: q.query } : {}), ...(q.cursor ? { cursor: q.cursor } : {}) });
    } catch (err) {
      if (err instanceof TypeError) throw new TesseraError('invalid_request', { detail: 'Invalid cursor.' });
      throw err;
    }
    return { items: page.items, next_cursor: page.nextCursor };
  });

  app.post('/v1/admin/users', { ...admin, schema: adminCreateUserSchema }, async (request, reply) => {
    const user = await t.accounts.createInvited(request.body.email, request.body.admin ?? false, { ip: request.clientIp }, authOf(request).user.id);
    return reply.code(201).send(t.adminUsers.item(user, { lastSignInAt: null, mfa: false }));
  });

  app.post('/v1/admin/users/:id/disable', { ...admin, schema: adminDisableSchema }, async (request, reply) => {
    await t.adminUsers.disable(await userOr404(request.params.id), by(request));
    return reply.code(204).send();
  });

  app.post('/v1/admin/users/:id/enable', { ...admin, schema: adminEnableSchema }, async (request, reply) => {
    await t.adminUsers.enable(await userOr404(request.params.id), by(request));
    return reply.code(204).send();
  });

  app.delete('/v1/admin/users/:id', { ...admin, schema: adminDeleteUserSchema }, async (request, reply) => {
    await t.lifecycle.deleteAccount(await userOr404(request.params.id), by(request));
    return reply.code(204).send();
  });
}
