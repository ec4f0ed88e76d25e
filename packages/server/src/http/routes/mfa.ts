import type { WebauthnCredentialRow } from '../../store/ports/index.js';
import type { TesseraServices } from '../../tessera.js';
import { authOf, type HttpAuth } from '../auth.js';
import type { ZodApp } from '../schemas/common.js';
import {
  loginMfaEmailSchema,
  loginMfaSchema,
  loginMfaSmsSchema,
  loginPasskeyOptionsSchema,
  loginPasskeySchema,
  passkeyAddSchema,
  passkeyListSchema,
  passkeyOptionsSchema,
  passkeyRemoveSchema,
  recoveryCodesSchema,
  smsRemoveSchema,
  smsStartSchema,
  smsVerifySchema,
  totpRemoveSchema,
  totpStartSchema,
  totpVerifySchema,
  type PasskeyJson,
} from '../schemas/mfa.js';
import { loginContext, sendTokens } from './login.js';

function passkeyToJson(c: WebauthnCredentialRow): PasskeyJson {
  return {
    id: c.id,
    name: c.name,
    transports: c.transports,
    created_at: new Date(c.createdAt).toISOString(),
    last_used_at: c.lastUsedAt === null ? null : new Date(c.lastUsedAt).toISOString(),
  };
}

/**
 * The second sign-in step and MFA management (docs/api.md). Every route is in the tight per-IP `mfa` limit;
 * the per-token and per-account attempt budgets live in core/mfa/login.ts.
 */
export function mfaRoutes(app: ZodApp, t: TesseraServices, auth: HttpAuth): void {
  secondStepRoutes(app, t, auth);
  authenticatorRoutes(app, t, auth);
  phoneAndCodeRoutes(app, t, auth);
}

/** The second sign-in step: the mfa_token of a password sign-in redeemed with a code or a passkey. */
function secondStepRoutes(app: ZodApp, t: TesseraServices, auth: HttpAuth): void {
  const limited = { config: { limit: 'mfa' as const } };

  /** The mfa_token keeps the password step's transport; login CSRF and DPoP rules follow it (login.ts). */
  const contextFor = async (request: Parameters<typeof loginContext>[1], mfaToken: string | undefined, fallback: 'bearer' | 'cookie') =>
    loginContext(auth, request, (mfaToken && (await t.mfa.login.transportOf(mfaToken))) || fallback);

  app.post('/v1/login/mfa', { ...limited, schema: loginMfaSchema }, async (request, reply) => {
    const b = request.body;
    const ctx = await contextFor(request, b.mfa_token, 'bearer');
    const r = await t.mfa.login.verifyCode({ mfaToken: b.mfa_token, method: b.method, code: b.code, ctx });
    return sendTokens(t, auth, reply, r.tokens, r.transport);
  });

  // An addition to the contract: mails a code for `method: "email_otp"` when that fallback is enabled.
  app.post('/v1/login/mfa/email', { ...limited, schema: loginMfaEmailSchema }, async (request, reply) => {
    const b = request.body;
    const ctx = await contextFor(request, b.mfa_token, 'bearer');
    const r = await t.mfa.login.sendEmailOtp(b.mfa_token, ctx);
    return reply.code(202).header('Cache-Control', 'no-store').send({ status: 'sent', expires_in: r.expiresInSec });
  });

  // Texts a code for `method: "sms_otp"` when SMS is enabled and the account has a confirmed phone.
  app.post('/v1/login/mfa/sms', { ...limited, schema: loginMfaSmsSchema }, async (request, reply) => {
    const b = request.body;
    const ctx = await contextFor(request, b.mfa_token, 'bearer');
    const r = await t.mfa.login.sendSmsOtp(b.mfa_token, ctx);
    return reply.code(202).header('Cache-Control', 'no-store').send({ status: 'sent', expires_in: r.expiresInSec });
  });

  app.post('/v1/login/webauthn/options', { ...limited, schema: loginPasskeyOptionsSchema }, async (request, reply) => {
    const b = request.body;
    const ctx = b.mfa_token === undefined ? auth.context(request) : await contextFor(request, b.mfa_token, 'bearer');
    return reply.header('Cache-Control', 'no-store').send(await t.mfa.login.passkeyOptions(b.mfa_token, ctx));
  });

  app.post('/v1/login/webauthn', { ...limited, schema: loginPasskeySchema }, async (request, reply) => {
    const b = request.body;
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
}

/** Management: signed in, and signed in recently (a stolen session must not add its own factor or drop yours). */
function managed(auth: HttpAuth) {
  const manage = { config: { limit: 'mfa' as const }, preHandler: auth.required };
  const recent = (request: Parameters<typeof authOf>[0]) => {
    const a = authOf(request);
    auth.recent(a);
    return { a, by: { ip: request.clientIp, sessionId: a.session.id } };
  };
  return { manage, recent };
}

/** The authenticator app and passkeys of the signed-in user. */
function authenticatorRoutes(app: ZodApp, t: TesseraServices, auth: HttpAuth): void {
  const { manage, recent } = managed(auth);
  app.post('/v1/mfa/totp', { ...manage, schema: totpStartSchema }, async (request, reply) => {
    const { a } = recent(request);
    const e = await t.mfa.manage.startTotp(a.user);
    return reply.header('Cache-Control', 'no-store').send({ secret: e.secret, otpauth_uri: e.otpauthUri, qr_svg: e.qrSvg });
  });

  app.post('/v1/mfa/totp/verify', { ...manage, schema: totpVerifySchema }, async (request, reply) => {
    const { a, by } = recent(request);
    const codes = await t.mfa.manage.confirmTotp(a.user, request.body.code, by);
    return reply.header('Cache-Control', 'no-store').send({ recovery_codes: codes });
  });

  app.delete('/v1/mfa/totp', { ...manage, schema: totpRemoveSchema }, async (request, reply) => {
    const { a, by } = recent(request);
    await t.mfa.manage.removeTotp(a.user, by);
    return reply.code(204).send();
  });

  app.post('/v1/mfa/webauthn/options', { ...manage, schema: passkeyOptionsSchema }, async (request, reply) => {
    const { a } = recent(request);
    return reply.header('Cache-Control', 'no-store').send(await t.mfa.manage.passkeyOptions(a.user));
  });

  app.post('/v1/mfa/webauthn', { ...manage, schema: passkeyAddSchema }, async (request, reply) => {
    const { a, by } = recent(request);
    const b = request.body;
    const r = await t.mfa.manage.addPasskey(a.user, b.response, b.name ?? 'Passkey', by);
    return reply
      .code(201)
      .header('Cache-Control', 'no-store')
      .send({ ...passkeyToJson(r.credential), ...(r.recoveryCodes ? { recovery_codes: r.recoveryCodes } : {}) });
  });

  app.get('/v1/mfa/webauthn', { ...manage, schema: passkeyListSchema }, async (request) => {
    const { a } = recent(request);
    return (await t.mfa.manage.listPasskeys(a.user)).map(passkeyToJson);
  });

  app.delete('/v1/mfa/webauthn/:id', { ...manage, schema: passkeyRemoveSchema }, async (request, reply) => {
    const { a, by } = recent(request);
    await t.mfa.manage.removePasskey(a.user, request.params.id, by);
    return reply.code(204).send();
  });
}

/** The SMS phone and the recovery codes of the signed-in user. */
function phoneAndCodeRoutes(app: ZodApp, t: TesseraServices, auth: HttpAuth): void {
  const { manage, recent } = managed(auth);
  app.post('/v1/mfa/sms', { ...manage, schema: smsStartSchema }, async (request, reply) => {
    const { a } = recent(request);
    const r = await t.mfa.manage.startSms(a.user, request.body.phone);
    return reply.code(202).header('Cache-Control', 'no-store').send({ status: 'sent', phone: r.phoneMasked, expires_in: r.expiresInSec });
  });

  app.post('/v1/mfa/sms/verify', { ...manage, schema: smsVerifySchema }, async (request, reply) => {
    const { a, by } = recent(request);
    const r = await t.mfa.manage.confirmSms(a.user, request.body.code, by);
    return reply
      .header('Cache-Control', 'no-store')
      .send({ phone: r.phoneMasked, ...(r.recoveryCodes ? { recovery_codes: r.recoveryCodes } : {}) });
  });

  app.delete('/v1/mfa/sms', { ...manage, schema: smsRemoveSchema }, async (request, reply) => {
    const { a, by } = recent(request);
    await t.mfa.manage.removeSms(a.user, by);
    return reply.code(204).send();
  });

  app.post('/v1/mfa/recovery-codes', { ...manage, schema: recoveryCodesSchema }, async (request, reply) => {
    const { a, by } = recent(request);
    return reply.header('Cache-Control', 'no-store').send({ recovery_codes: await t.mfa.manage.regenerateRecoveryCodes(a.user, by) });
  });
}
