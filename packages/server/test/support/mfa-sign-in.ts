/** Signs a user in with password + a second factor over HTTP (enrolling TOTP first), as admin calls need. */
import { TOTP, URI } from 'otpauth';
import { expect } from 'vitest';
import { http } from './server.js';

export interface MfaSignIn {
  login: Record<string, unknown> & { access_token: string; refresh_token: string; session_id: string };
  totp: TOTP;
  recoveryCodes: string[];
}

/** Password sign-in, TOTP enrolment, then a fresh sign-in completed with a recovery code (amr holds `mfa`). */
export async function signInWithSecondFactor(base: string, email: string, password: string, now: () => number = Date.now): Promise<MfaSignIn> {
  const first = await http(base, 'POST', '/v1/login', { json: { email, password } });
  expect(first.status).toBe(200);
  const auth = { authorization: `Bearer ${first.body.access_token as string}` };
  const e = await http(base, 'POST', '/v1/mfa/totp', { headers: auth });
  expect(e.status).toBe(200);
  const totp = URI.parse(e.body.otpauth_uri as string) as TOTP;
  const v = await http(base, 'POST', '/v1/mfa/totp/verify', { json: { code: totp.generate({ timestamp: now() }) }, headers: auth });
  expect(v.status).toBe(200);
  const recoveryCodes = v.body.recovery_codes as string[];
  const step = await http(base, 'POST', '/v1/login', { json: { email, password } });
  expect(step.body.mfa_required).toBe(true);
  const done = await http(base, 'POST', '/v1/login/mfa', { json: { mfa_token: step.body.mfa_token, method: 'recovery_code', code: recoveryCodes[0] } });
  expect(done.status).toBe(200);
  return { login: done.body as MfaSignIn['login'], totp, recoveryCodes: recoveryCodes.slice(1) };
}
