import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { WebauthnCredentialRow } from '../../store/ports/index.js';
import type { Tessera } from '../../tessera.js';
import { authOf, type HttpAuth } from '../auth.js';
import { jsonSchema } from '../schema.js';
import { loginContext, sendTokens } from './login.js';

const MfaToken = z.string().min(1).max(200);
const Code = z.string().min(1).max(64);
/** shaped and verified by @simplewebauthn/server; here only bounded */
const WebauthnResponse = z.looseObject({ id: z.string().min(1).max(1400), response: z.looseObject({}) });
const Transport = z.enum(['bearer', 'cookie']);

const MfaBody = z.strictObject({ mfa_token: MfaToken, method: z.enum(['totp', 'recovery_code', 'email_otp', 'sms_otp']), code: Code });
const MfaEmailBody = z.strictObject({ mfa_token: MfaToken });
/** the E.164 check (after stripping spaces, dashes, dots, parentheses) is in core/mfa/phone.ts */
const SmsEnrolBody = z.strictObject({ phone: z.string().min(1).max(32) });
const PasskeyOptionsBody = z.strictObject({ mfa_token: MfaToken.optional() });
const PasskeyLoginBody = z.strictObject({ mfa_token: MfaToken.optional(), response: WebauthnResponse, transport: Transport.optional() });
const TotpVerifyBody = z.strictObject({ code: Code });
const AddPasskeyBody = z.strictObject({ response: WebauthnResponse, name: z.string().trim().min(1).max(100).optional() });
const PasskeyParams = z.strictObject({ id: z.string().min(1).max(1400).regex(/^[A-Za-z0-9_-]+$/) });

function passkeyToJson(c: WebauthnCredentialRow): Record<string, unknown> {
  return {
    id: c.id,
    name: c.name,
    transports: c.transports,
    created_at: new Date(c.createdAt).toISOString(),
    last_used_at: c.lastUsedAt === null ? null : new Date(c.lastUsedAt).toISOString(),
  };
}

/**
 * The second sign-in step and MFA management (API.md; additions in docs/api-notes.md). Every route is in the tight per-IP `mfa` limit;
 * the per-token and per-account attempt budgets live in core/mfa/login.ts.
 */
export function mfaRoutes(app: FastifyInstance, t: Tessera, auth: HttpAuth): void {
  const limited = { config: { limit: 'mfa' as const } };
  const body = (schema: z.ZodType, tags = ['login']) => ({ ...limited, schema: { tags, body: jsonSchema(schema) } });

  /** The mfa_token keeps the password step's transport; login CSRF and DPoP rules follow it (login.ts). */
  const contextFor = async (request: Parameters<typeof loginContext>[1], mfaToken: string | undefined, fallback: 'bearer' | 'cookie') =>
    loginContext(auth, request, (mfaToken && (await t.mfa.login.transportOf(mfaToken))) || fallback);

  app.post('/v1/login/mfa', body(MfaBody), async (request, reply) => {
    const b = request.body as z.infer<typeof MfaBody>;
    const ctx = await contextFor(request, b.mfa_token, 'bearer');
    const r = await t.mfa.login.verifyCode({ mfaToken: b.mfa_token, method: b.method, code: b.code, ctx });
    return sendTokens(t, auth, reply, r.tokens, r.transport);
  });

  // An addition to the contract: mails a code for `method: "email_otp"` when that fallback is enabled.
  app.post('/v1/login/mfa/email', body(MfaEmailBody), async (request, reply) => {
    const b = request.body as z.infer<typeof MfaEmailBody>;
    const ctx = await contextFor(request, b.mfa_token, 'bearer');
    const r = await t.mfa.login.sendEmailOtp(b.mfa_token, ctx);
    return reply.code(202).header('Cache-Control', 'no-store').send({ status: 'sent', expires_in: r.expiresInSec });
  });

  // Texts a code for `method: "sms_otp"` when SMS is enabled and the account has a confirmed phone.
  app.post('/v1/login/mfa/sms', body(MfaEmailBody), async (request, reply) => {
    const b = request.body as z.infer<typeof MfaEmailBody>;
    const ctx = await contextFor(request, b.mfa_token, 'bearer');
    const r = await t.mfa.login.sendSmsOtp(b.mfa_token, ctx);
    return reply.code(202).header('Cache-Control', 'no-store').send({ status: 'sent', expires_in: r.expiresInSec });
  });

  app.post('/v1/login/webauthn/options', body(PasskeyOptionsBody), async (request, reply) => {
    const b = request.body as z.infer<typeof PasskeyOptionsBody>;
    const ctx = b.mfa_token === undefined ? auth.context(request) : await contextFor(request, b.mfa_token, 'bearer');
    return reply.header('Cache-Control', 'no-store').send(await t.mfa.login.passkeyOptions(b.mfa_token, ctx));
  });

  app.post('/v1/login/webauthn', body(PasskeyLoginBody), async (request, reply) => {
    const b = request.body as z.infer<typeof PasskeyLoginBody>;
    if (b.mfa_token !== undefined) {
      const ctx = await contextFor(request, b.mfa_token, 'bearer');
      const r = await t.mfa.login.verifyPasskey({ mfaToken: b.mfa_token, response: b.response, ctx });
      return sendTokens(t, auth, reply, r.tokens, r.transport);
    }
    const transport = b.transport ?? 'bearer';
    const ctx = await loginContext(auth, request, transport);
    const r = await t.mfa.login.passkeyOnly({ response: b.response, ctx, transport });
    return sendTokens(t, auth, reply, r.tokens, r.transport);
  });

  // Management: signed in, and signed in recently (a stolen session must not add its own factor or drop yours).
  const manage = (tags = ['mfa']) => ({ ...limited, preHandler: auth.required, schema: { tags } });
  const recent = (request: Parameters<typeof authOf>[0]) => {
    const a = authOf(request);
    auth.recent(a);
    return { a, by: { ip: request.clientIp, sessionId: a.session.id } };
  };

  app.post('/v1/mfa/totp', manage(), async (request, reply) => {
    const { a } = recent(request);
    const e = await t.mfa.manage.startTotp(a.user);
    return reply.header('Cache-Control', 'no-store').send({ secret: e.secret, otpauth_uri: e.otpauthUri, qr_svg: e.qrSvg });
  });

  app.post('/v1/mfa/totp/verify', { ...manage(), schema: { tags: ['mfa'], body: jsonSchema(TotpVerifyBody) } }, async (request, reply) => {
    const { a, by } = recent(request);
    const codes = await t.mfa.manage.confirmTotp(a.user, (request.body as z.infer<typeof TotpVerifyBody>).code, by);
    return reply.header('Cache-Control', 'no-store').send({ recovery_codes: codes });
  });

  app.delete('/v1/mfa/totp', manage(), async (request, reply) => {
    const { a, by } = recent(request);
    await t.mfa.manage.removeTotp(a.user, by);
    return reply.code(204).send();
  });

  app.post('/v1/mfa/webauthn/options', manage(), async (request, reply) => {
    const { a } = recent(request);
    return reply.header('Cache-Control', 'no-store').send(await t.mfa.manage.passkeyOptions(a.user));
  });

  app.post('/v1/mfa/webauthn', { ...manage(), schema: { tags: ['mfa'], body: jsonSchema(AddPasskeyBody) } }, async (request, reply) => {
    const { a, by } = recent(request);
    const b = request.body as z.infer<typeof AddPasskeyBody>;
    const r = await t.mfa.manage.addPasskey(a.user, b.response, b.name ?? 'Passkey', by);
    return reply
      .code(201)
      .header('Cache-Control', 'no-store')
      .send({ ...passkeyToJson(r.credential), ...(r.recoveryCodes ? { recovery_codes: r.recoveryCodes } : {}) });
  });

  app.get('/v1/mfa/webauthn', manage(), async (request) => {
    const { a } = recent(request);
    return (await t.mfa.manage.listPasskeys(a.user)).map(passkeyToJson);
  });

  app.delete('/v1/mfa/webauthn/:id', { ...manage(), schema: { tags: ['mfa'], params: jsonSchema(PasskeyParams) } }, async (request, reply) => {
    const { a, by } = recent(request);
    await t.mfa.manage.removePasskey(a.user, (request.params as z.infer<typeof PasskeyParams>).id, by);
    return reply.code(204).send();
  });

  app.post('/v1/mfa/sms', { ...manage(), schema: { tags: ['mfa'], body: jsonSchema(SmsEnrolBody) } }, async (request, reply) => {
    const { a } = recent(request);
    const r = await t.mfa.manage.startSms(a.user, (request.body as z.infer<typeof SmsEnrolBody>).phone);
    return reply.code(202).header('Cache-Control', 'no-store').send({ status: 'sent', phone: r.phoneMasked, expires_in: r.expiresInSec });
  });

  app.post('/v1/mfa/sms/verify', { ...manage(), schema: { tags: ['mfa'], body: jsonSchema(TotpVerifyBody) } }, async (request, reply) => {
    const { a, by } = recent(request);
    const r = await t.mfa.manage.confirmSms(a.user, (request.body as z.infer<typeof TotpVerifyBody>).code, by);
    return reply
      .header('Cache-Control', 'no-store')
      .send({ phone: r.phoneMasked, ...(r.recoveryCodes ? { recovery_codes: r.recoveryCodes } : {}) });
  });

  app.delete('/v1/mfa/sms', manage(), async (request, reply) => {
    const { a, by } = recent(request);
    await t.mfa.manage.removeSms(a.user, by);
    return reply.code(204).send();
  });

  app.post('/v1/mfa/recovery-codes', manage(), async (request, reply) => {
    const { a, by } = recent(request);
    return reply.header('Cache-Control', 'no-store').send({ recovery_codes: await t.mfa.manage.regenerateRecoveryCodes(a.user, by) });
  });
}
