import { randomUUID } from 'node:crypto';
import * as jose from 'jose';
import { TOTP, URI } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { MFA_ACCOUNT_ATTEMPTS, MFA_TOKEN_MAX_ATTEMPTS } from '../../src/core/mfa/login.js';
import type { MailMessage, Mailer } from '../../src/mail/types.js';
import { http, startServer, type TestServer } from '../support/server.js';
import { signUp } from '../support/users.js';

const PASSWORD = 'correct horse battery staple';
const STEP = 30_000;
const bearer = (at: string) => ({ authorization: `Bearer ${at}` });

class CapturingMailer implements Mailer {
  readonly sent: MailMessage[] = [];
  async send(msg: MailMessage): Promise<void> {
    this.sent.push(msg);
  }
}

describe('MFA attacks', () => {
  const clock = new FakeClock();
  const mailer = new CapturingMailer();
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ clock, mailer });
  });
  afterAll(async () => s?.close());

  async function userWithTotp(email: string): Promise<TOTP> {
    await signUp(s, email, PASSWORD);
    const at = (await http(s.url, 'POST', '/v1/login', { json: { email, password: PASSWORD } })).body.access_token as string;
    const e = await http(s.url, 'POST', '/v1/mfa/totp', { headers: bearer(at) });
    const totp = URI.parse(e.body.otpauth_uri as string) as TOTP;
    expect((await http(s.url, 'POST', '/v1/mfa/totp/verify', { json: { code: totp.generate({ timestamp: clock.now() }) }, headers: bearer(at) })).status).toBe(200);
    clock.advance(STEP);
    return totp;
  }
  async function mfaToken(email: string, headers: Record<string, string> = {}): Promise<string> {
    const l = await http(s.url, 'POST', '/v1/login', { json: { email, password: PASSWORD }, headers });
    expect(l.body.mfa_required).toBe(true);
    return l.body.mfa_token as string;
  }
  const submit = (token: string, code: string, method = 'totp', headers: Record<string, string> = {}) =>
    http(s.url, 'POST', '/v1/login/mfa', { json: { mfa_token: token, method, code }, headers });
  const wrongCodes = (totp: TOTP, n: number): string[] => {
    const valid = new Set([-1, 0, 1].map((d) => totp.generate({ timestamp: clock.now() + d * STEP })));
    const out: string[] = [];
    for (let i = 0; out.length < n; i++) if (!valid.has(String(i).padStart(6, '0'))) out.push(String(i).padStart(6, '0'));
    return out;
  };

  it('brute force: 5 guesses per mfa_token, then it is dead even for the right code; 10 guesses per account per 15 minutes', async () => {
    expect([MFA_TOKEN_MAX_ATTEMPTS, MFA_ACCOUNT_ATTEMPTS]).toEqual([5, 10]);
    const totp = await userWithTotp('brute@example.com');
    const statuses: string[] = [];
    const first = await mfaToken('brute@example.com');
    for (const code of wrongCodes(totp, 5)) statuses.push((await submit(first, code)).body.code);
    expect(statuses).toEqual(Array(5).fill('invalid_code'));
    const dead = await submit(first, totp.generate({ timestamp: clock.now() }));
    expect(dead.status).toBe(401);
    expect(dead.body.code).toBe('invalid_mfa_token');

    // A new password step gives a new token, but the account budget (10 per 15 min) is shared.
    const second = await mfaToken('brute@example.com');
    for (const code of wrongCodes(totp, 5)) expect((await submit(second, code)).body.code).toBe('invalid_code');
    const third = await mfaToken('brute@example.com');
    const limited = await submit(third, totp.generate({ timestamp: clock.now() }));
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // So an attacker who has the password gets 10 guesses per 15 minutes at 3 valid codes out of 10^6.
    const user = await s.t.store.getUserByEmail('brute@example.com');
    const events = await s.t.events.list({ type: 'mfa_failed', userId: user!.id, limit: 50 });
    expect(events.filter((e) => e.data.method === 'totp' && e.data.reason === 'wrong_code')).toHaveLength(10);
  });

  it('a concurrent burst of wrong guesses cannot exceed the attempt budget of a token', async () => {
    const totp = await userWithTotp('burst@example.com');
    const token = await mfaToken('burst@example.com');
    const results = await Promise.all(wrongCodes(totp, 20).map((code) => submit(token, code)));
    const codes = results.map((r) => r.body.code as string);
    expect(codes.filter((c) => c === 'invalid_code')).toHaveLength(5);
    expect(codes.every((c) => ['invalid_code', 'invalid_mfa_token', 'rate_limited'].includes(c))).toBe(true);
    const row = await s.t.store.getMfaChallenge(token.split('.')[0]);
    expect(row!.failures).toBeGreaterThanOrEqual(5);
  });

  it('the mfa_token only works for the client that passed the password step', async () => {
    const totp = await userWithTotp('bound@example.com');
    const token = await mfaToken('bound@example.com', { 'user-agent': 'victim-browser' });
    const stolen = await submit(token, totp.generate({ timestamp: clock.now() }), 'totp', { 'user-agent': 'attacker' });
    expect(stolen.status).toBe(401);
    expect(stolen.body.code).toBe('invalid_mfa_token');
    // the refusal neither spent the code's step nor burnt the token for its owner
    const ok = await submit(token, totp.generate({ timestamp: clock.now() }), 'totp', { 'user-agent': 'victim-browser' });
    expect(ok.status).toBe(200);
  });

  it('a DPoP-bound password step must be finished with the same DPoP key', async () => {
    const totp = await userWithTotp('dpop-mfa@example.com');
    const keyA = await jose.generateKeyPair('ES256');
    const keyB = await jose.generateKeyPair('ES256');
    const proof = async (key: CryptoKeyPair, path: string) =>
      new jose.SignJWT({ htm: 'POST', htu: `${s.t.config.issuer}${path}`, jti: randomUUID(), iat: Math.floor(clock.now() / 1000) })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await jose.exportJWK(key.publicKey) })
        .sign(key.privateKey);
    const token = await mfaToken('dpop-mfa@example.com', { dpop: await proof(keyA, '/v1/login') });
    const code = totp.generate({ timestamp: clock.now() });
    expect((await submit(token, code)).body.code).toBe('invalid_mfa_token');
    expect((await submit(token, code, 'totp', { dpop: await proof(keyB, '/v1/login/mfa') })).body.code).toBe('invalid_mfa_token');
    const ok = await submit(token, code, 'totp', { dpop: await proof(keyA, '/v1/login/mfa') });
    expect(ok.status).toBe(200);
    expect(ok.body.token_type).toBe('DPoP');
  });

  it('e-mailed codes: off by default; when on, single-use, bound to their token, and sends are limited', async () => {
    await userWithTotp('mail-otp@example.com');
    const off = await http(s.url, 'POST', '/v1/login/mfa/email', { json: { mfa_token: await mfaToken('mail-otp@example.com') } });
    expect(off.status).toBe(400);

    s.t.mfa.login.options.emailOtp = true;
    try {
      const l = await http(s.url, 'POST', '/v1/login', { json: { email: 'mail-otp@example.com', password: PASSWORD } });
      expect(l.body.methods).toEqual(['totp', 'recovery_code', 'email_otp']);
      const token = l.body.mfa_token as string;
      const before = mailer.sent.length;
      const send = await http(s.url, 'POST', '/v1/login/mfa/email', { json: { mfa_token: token } });
      expect(send.status).toBe(202);
      expect(send.body).toEqual({ status: 'sent', expires_in: 300 });
      const mail = mailer.sent[before];
      expect(mail.to).toBe('mail-otp@example.com');
      expect(mail.subject).not.toMatch(/\d{6}/);
      const code = /\b(\d{6})\b/.exec(mail.text)![1];

      // the code belongs to the token it was sent for
      const other = await mfaToken('mail-otp@example.com');
      expect((await submit(other, code, 'email_otp')).body.code).toBe('invalid_code');
      expect((await submit(token, code === '000000' ? '000001' : '000000', 'email_otp')).body.code).toBe('invalid_code');
      const ok = await submit(token, code, 'email_otp');
      expect(ok.status).toBe(200);
      expect((await submit(token, code, 'email_otp')).body.code).toBe('invalid_mfa_token');

      // three sends per token, then 429: no mail bombing through one password step
      const spam = await mfaToken('mail-otp@example.com');
      const sends = [];
      for (let i = 0; i < 4; i++) sends.push((await http(s.url, 'POST', '/v1/login/mfa/email', { json: { mfa_token: spam } })).status);
      expect(sends).toEqual([202, 202, 202, 429]);
    } finally {
      s.t.mfa.login.options.emailOtp = false;
    }
  });

  it('unknown fields and methods are refused by schema', async () => {
    const bad = await http(s.url, 'POST', '/v1/login/mfa', { json: { mfa_token: 'a.b', method: 'sms', code: '123456' } });
    expect(bad.status).toBe(400);
    const extra = await http(s.url, 'POST', '/v1/login/mfa', { json: { mfa_token: 'a.b', method: 'totp', code: '123456', user_id: 'x' } });
    expect(extra.status).toBe(400);
    expect(extra.body.code).toBe('invalid_request');
  });
});
