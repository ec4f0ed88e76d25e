import { z } from 'zod';
import type { ErrorCode } from '../../core/errors.js';
import { AUTH_READ_ERRORS, AUTH_WRITE_ERRORS, IsoTime, NoContent, Transport, USER_READ, USER_WRITE, op } from './common.js';
import { SignedIn } from './login.js';
import { CreationOptions, RequestOptions } from './webauthn.js';

const MfaToken = z.string().min(1).max(200);
const Code = z.string().min(1).max(64);
/** shaped and verified by @simplewebauthn/server; here only bounded */
const WebauthnResponse = z
  .looseObject({ id: z.string().min(1).max(1400), response: z.looseObject({}) })
  .describe('the browser credential as JSON (`PublicKeyCredential.toJSON()`)');

export const MfaBody = z.strictObject({ mfa_token: MfaToken, method: z.enum(['totp', 'recovery_code', 'email_otp', 'sms_otp']), code: Code });
export const MfaTokenBody = z.strictObject({ mfa_token: MfaToken });
/** the E.164 check (after stripping spaces, dashes, dots, parentheses) is in core/mfa/phone.ts */
export const SmsEnrolBody = z.strictObject({ phone: z.string().min(1).max(32).describe('international format, e.g. +447700900123') });
export const PasskeyOptionsBody = z.strictObject({ mfa_token: MfaToken.optional() });
export const PasskeyLoginBody = z.strictObject({ mfa_token: MfaToken.optional(), response: WebauthnResponse, transport: Transport.optional() });
export const CodeBody = z.strictObject({ code: Code });
export const AddPasskeyBody = z.strictObject({ response: WebauthnResponse, name: z.string().trim().min(1).max(100).optional() });
export const PasskeyParams = z.strictObject({ id: z.string().min(1).max(1400).regex(/^[A-Za-z0-9_-]+$/) });

export const Passkey = z.object({
  id: z.string().describe('credential id, base64url'),
  name: z.string(),
  transports: z.array(z.string()),
  created_at: IsoTime,
  last_used_at: IsoTime.nullable(),
});
export type PasskeyJson = z.output<typeof Passkey>;
const RecoveryCodes = z.array(z.string()).describe('single-use recovery codes: shown once');
const CodeSent = z.object({ status: z.literal('sent'), expires_in: z.number().int().describe('seconds') }).describe('The code is on its way');

const STEP_ERRORS: ErrorCode[] = ['invalid_mfa_token', 'csrf_failed', 'invalid_dpop_proof', 'session_revoked'];
const MANAGE_READ: ErrorCode[] = [...AUTH_READ_ERRORS, 'reauthentication_required'];
const MANAGE_WRITE: ErrorCode[] = [...AUTH_WRITE_ERRORS, 'reauthentication_required'];

export const loginMfaSchema = op({
  summary: 'Second sign-in step with a code (TOTP, recovery code, e-mail or SMS code)',
  tags: ['login'],
  body: MfaBody,
  response: { 200: SignedIn },
  errors: [...STEP_ERRORS, 'invalid_code'],
});

export const loginMfaEmailSchema = op({
  summary: 'Mail a sign-in code for `method: "email_otp"` (when enabled)',
  tags: ['login'],
  body: MfaTokenBody,
  response: { 202: CodeSent },
  errors: STEP_ERRORS,
});

export const loginMfaSmsSchema = op({
  summary: 'Text a sign-in code for `method: "sms_otp"` (when enabled)',
  tags: ['login'],
  body: MfaTokenBody,
  response: { 202: CodeSent },
  errors: STEP_ERRORS,
});

export const loginPasskeyOptionsSchema = op({
  summary: 'WebAuthn options for a passkey sign-in (second factor with `mfa_token`, or the only factor)',
  tags: ['login'],
  body: PasskeyOptionsBody,
  response: { 200: RequestOptions },
  errors: STEP_ERRORS,
});

export const loginPasskeySchema = op({
  summary: 'Sign in with a passkey (second factor with `mfa_token`, or the only factor)',
  tags: ['login'],
  body: PasskeyLoginBody,
  response: { 200: SignedIn },
  errors: [...STEP_ERRORS, 'invalid_code', 'invalid_credentials', 'password_reset_required'],
});

export const totpStartSchema = op({
  summary: 'Start authenticator-app (TOTP) set-up',
  tags: ['mfa'],
  security: USER_WRITE,
  response: {
    200: z.object({ secret: z.string(), otpauth_uri: z.string(), qr_svg: z.string().describe('the otpauth URI as an SVG QR code') }).describe('The secret to scan'),
  },
  errors: [...MANAGE_WRITE, 'conflict', 'email_unverified'],
});

export const totpVerifySchema = op({
  summary: 'Confirm TOTP set-up with a first code',
  tags: ['mfa'],
  security: USER_WRITE,
  body: CodeBody,
  response: { 200: z.object({ recovery_codes: RecoveryCodes }).describe('TOTP is on; the recovery codes') },
  errors: [...MANAGE_WRITE, 'invalid_code', 'conflict', 'email_unverified'],
});

export const totpRemoveSchema = op({
  summary: 'Remove the authenticator app',
  tags: ['mfa'],
  security: USER_WRITE,
  response: { 204: NoContent('Removed') },
  errors: [...MANAGE_WRITE, 'not_found'],
});

export const passkeyOptionsSchema = op({
  summary: 'WebAuthn options to register a passkey',
  tags: ['mfa'],
  security: USER_WRITE,
  response: { 200: CreationOptions },
  errors: [...MANAGE_WRITE, 'email_unverified'],
});

export const passkeyAddSchema = op({
  summary: 'Register a passkey',
  tags: ['mfa'],
  security: USER_WRITE,
  body: AddPasskeyBody,
  response: {
    201: Passkey.extend({ recovery_codes: RecoveryCodes.optional().describe('only when this is the first factor of the account') }).describe('The passkey is registered'),
  },
  errors: [...MANAGE_WRITE, 'conflict', 'email_unverified'],
});

export const passkeyListSchema = op({
  summary: "List the user's passkeys",
  tags: ['mfa'],
  security: USER_READ,
  response: { 200: z.array(Passkey).describe('Passkeys') },
  errors: MANAGE_READ,
});

export const passkeyRemoveSchema = op({
  summary: 'Remove a passkey',
  tags: ['mfa'],
  security: USER_WRITE,
  params: PasskeyParams,
  response: { 204: NoContent('Removed') },
  errors: [...MANAGE_WRITE, 'not_found'],
});

export const smsStartSchema = op({
  summary: 'Start SMS set-up: texts a code to the number (when enabled)',
  tags: ['mfa'],
  security: USER_WRITE,
  body: SmsEnrolBody,
  response: { 202: z.object({ status: z.literal('sent'), phone: z.string().describe('masked'), expires_in: z.number().int() }).describe('The code is on its way') },
  errors: [...MANAGE_WRITE, 'conflict', 'email_unverified'],
});

export const smsVerifySchema = op({
  summary: 'Confirm SMS set-up with the texted code',
  tags: ['mfa'],
  security: USER_WRITE,
  body: CodeBody,
  response: { 200: z.object({ phone: z.string().describe('masked'), recovery_codes: RecoveryCodes.optional() }).describe('SMS codes are on') },
  errors: [...MANAGE_WRITE, 'invalid_code', 'conflict', 'email_unverified'],
});

export const smsRemoveSchema = op({
  summary: 'Remove the phone',
  tags: ['mfa'],
  security: USER_WRITE,
  response: { 204: NoContent('Removed') },
  errors: [...MANAGE_WRITE, 'not_found'],
});

export const recoveryCodesSchema = op({
  summary: 'Replace the recovery codes with a new set',
  tags: ['mfa'],
  security: USER_WRITE,
  response: { 200: z.object({ recovery_codes: RecoveryCodes }).describe('The new recovery codes; the old ones no longer work') },
  errors: [...MANAGE_WRITE, 'conflict', 'email_unverified'],
});
