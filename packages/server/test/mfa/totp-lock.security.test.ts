import { TOTP, URI } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { http, startServer, type Res, type TestServer } from '../support/server.js';
import { CapturingMailer } from '../login/support.js';
import { signUp } from '../support/users.js';

const PASSWORD = 'correct horse battery staple';
const STEP = 30_000;
const BUDGET = 4;
const bearer = (at: string) => ({ authorization: `Bearer ${at}` });

/** TOTP guessing locked (issue 17 item 11): a daily budget of wrong codes per account, then a lock. */
describe('TOTP lock after repeated wrong codes', () => {
  const clock = new FakeClock();
  const mailer = new CapturingMailer();
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ clock, mailer, env: { TESSERA_TOTP_FAILURES_PER_DAY: String(BUDGET) } });
  });
  afterAll(async () => s?.close());

  async function enrolled(email: string): Promise<{ totp: TOTP; recovery: string[] }> {
    await signUp(s, email, PASSWORD);
    const at = (await http(s.url, 'POST', '/v1/login', { json: { email, password: PASSWORD } })).body.access_token as string;
    const totp = URI.parse((await http(s.url, 'POST', '/v1/mfa/totp', { headers: bearer(at) })).body.otpauth_uri as string) as TOTP;
    const v = await http(s.url, 'POST', '/v1/mfa/totp/verify', { json: { code: totp.generate({ timestamp: clock.now() }) }, headers: bearer(at) });
    expect(v.status).toBe(200);
    clock.advance(STEP);
    return { totp, recovery: v.body.recovery_codes as string[] };
  }
  async function mfaToken(email: string, password = PASSWORD): Promise<string> {
    const l = await http(s.url, 'POST', '/v1/login', { json: { email, password } });
    expect(l.body.mfa_required).toBe(true);
    return l.body.mfa_token as string;
  }
  const submit = (token: string, code: string, method = 'totp'): Promise<Res> => http(s.url, 'POST', '/v1/login/mfa', { json: { mfa_token: token, method, code } });
  const now = (totp: TOTP) => totp.generate({ timestamp: clock.now() });
  const wrong = (totp: TOTP, n: number): string[] => {
    const valid = new Set([-1, 0, 1].map((d) => totp.generate({ timestamp: clock.now() + d * STEP })));
    const out: string[] = [];
    for (let i = 0; out.length < n; i++) if (!valid.has(String(i).padStart(6, '0'))) out.push(String(i).padStart(6, '0'));
    return out;
  };
  const lockedEvents = async (email: string) => {
    const user = await s.t.accounts.findUser(email);
    return s.t.events.list({ type: 'totp_locked', userId: user!.id, limit: 10 });
  };

  it('attack: after the budget of wrong codes TOTP is refused, even the right code, until a recovery code is used; the owner is mailed', async () => {
    const email = 'guessed-totp@example.com';
    const { totp, recovery } = await enrolled(email);
    const first = await mfaToken(email);
    for (const code of wrong(totp, BUDGET)) expect((await submit(first, code)).body.code).toBe('invalid_code');
    const right = await submit(first, now(totp));
    expect(right.status).toBe(403);
    expect(right.body.code).toBe('factor_locked');
    // a fresh mfa_token does not bring a fresh budget
    const second = await mfaToken(email);
    expect((await submit(second, now(totp))).body.code).toBe('factor_locked');
    expect(await lockedEvents(email)).toHaveLength(1);
    const mails = mailer.sent.filter((m) => m.to === email && /locked/.test(m.subject));
    expect(mails).toHaveLength(1);
    expect(mails[0].text).toContain('/forgot-password');

    // the owner's recovery code signs in and lifts the lock
    const ok = await submit(second, recovery[0], 'recovery_code');
    expect(ok.status).toBe(200);
    clock.advance(STEP);
    expect((await submit(await mfaToken(email), now(totp))).status).toBe(200);
  });

  it('attack: a concurrent burst over two mfa_tokens cannot exceed the budget', async () => {
    const email = 'burst-totp@example.com';
    const { totp } = await enrolled(email);
    const [a, b] = [await mfaToken(email), await mfaToken(email)];
    const codes = wrong(totp, 8);
    const results = await Promise.all(codes.map((code, i) => submit(i % 2 ? a : b, code)));
    const got = results.map((r) => r.body.code as string);
    expect(got.filter((c) => c === 'invalid_code')).toHaveLength(BUDGET);
    expect(got.filter((c) => c === 'factor_locked')).toHaveLength(codes.length - BUDGET);
    expect(await lockedEvents(email)).toHaveLength(1);
    expect(mailer.sent.filter((m) => m.to === email && /locked/.test(m.subject))).toHaveLength(1);
    expect((await submit(await mfaToken(email), now(totp))).body.code).toBe('factor_locked');
  });

  it('a password reset lifts the lock', async () => {
    const email = 'reset-totp@example.com';
    const { totp } = await enrolled(email);
    const token = await mfaToken(email);
    for (const code of wrong(totp, BUDGET)) await submit(token, code);
    expect((await submit(await mfaToken(email), now(totp))).body.code).toBe('factor_locked');
    expect((await http(s.url, 'POST', '/v1/password/forgot', { json: { email } })).status).toBe(202);
    await expect.poll(() => mailer.sent.some((m) => m.to === email && m.text.includes('/reset-password?token='))).toBe(true);
    const reset = await http(s.url, 'POST', '/v1/password/reset', { json: { token: mailer.link(email, 'reset-password'), new_password: 'another fine passphrase' } });
    expect(reset.status).toBe(204);
    expect((await submit(await mfaToken(email, 'another fine passphrase'), now(totp))).status).toBe(200);
  });
});
