import type { TesseraServices } from '../../tessera.js';
import { authOf, type HttpAuth } from '../auth.js';
import { clearSessionCookies } from '../cookies.js';
import type { ZodApp } from '../schemas/common.js';
import { deleteMeSchema, emailChangeSchema, emailConfirmSchema, exportSchema } from '../schemas/lifecycle.js';

/** Change of email, deletion and export of the signed-in user's account (API.md "Account lifecycle"). */
export function lifecycleRoutes(app: ZodApp, t: TesseraServices, auth: HttpAuth): void {
  const guarded = { preHandler: auth.required };

  app.post('/v1/email/change', { ...guarded, schema: emailChangeSchema, config: { limit: 'forgot' } }, async (request, reply) => {
    const a = authOf(request);
    // a stolen or forgotten session must not move the account to an attacker's mailbox
    auth.recent(a);
    await t.lifecycle.requestEmailChange(a.user, request.body.new_email, { ip: request.clientIp, sessionId: a.session.id });
    return reply.code(202).send({ status: 'accepted', detail: 'A confirmation link is on its way to the new address.' });
  });

  app.post('/v1/email/change/confirm', { schema: emailConfirmSchema, config: { limit: 'forgot' } }, async (request, reply) => {
    // The link alone is enough; a caller signed in as the same user keeps this session.
    const viewer = await auth.authenticate(request).catch(() => undefined);
    await t.lifecycle.confirmEmailChange(request.body.token, { ip: request.clientIp }, viewer?.session.id, viewer?.user.id);
    return reply.code(204).send();
  });

  app.delete('/v1/me', { ...guarded, schema: deleteMeSchema }, async (request, reply) => {
    const a = authOf(request);
    // a stolen session must not be able to erase the account and its security log's owner
    auth.recent(a);
    await t.lifecycle.deleteAccount(a.user, { ip: request.clientIp, sessionId: a.session.id });
    clearSessionCookies(reply, auth.names, t.config.TESSERA_COOKIE_SECURE);
    return reply.code(204).send();
  });

  app.get('/v1/me/export', { ...guarded, schema: exportSchema }, async (request, reply) => {
    const a = authOf(request);
    const doc = await t.exportAccount(a.user);
    const day = new Date(t.clock.now()).toISOString().slice(0, 10);
    void reply.header('Content-Disposition', `attachment; filename="tessera-export-${day}.json"`);
    return doc;
  });
}
