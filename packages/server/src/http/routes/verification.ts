import type { TesseraServices } from '../../tessera.js';
import type { ZodApp } from '../schemas/common.js';
import { resendVerificationSchema, verifyEmailSchema } from '../schemas/verification.js';

/** Email verification (docs/api.md): both in the per-IP `forgot` limit, against token guessing and mail bombing. */
export function verificationRoutes(app: ZodApp, t: TesseraServices): void {
  app.post('/v1/email/verify', { schema: verifyEmailSchema, config: { limit: 'forgot' } }, async (request, reply) => {
    await t.verification.verify(request.body.token, { ip: request.clientIp });
    return reply.code(204).send();
  });

  app.post('/v1/email/verification', { schema: resendVerificationSchema, config: { limit: 'forgot' } }, async (request, reply) => {
    const { email } = request.body;
    // Answer first, work after: body and timing are the same whether or not the address has an account.
    setImmediate(() => {
      t.verification.resend(email).catch((err: unknown) => request.log.error({ err }, 'verification mail failed'));
    });
    return reply.code(202).send({ status: 'accepted' });
  });
}
