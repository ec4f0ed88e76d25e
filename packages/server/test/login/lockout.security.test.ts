import { TOTP, URI } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { http, startServer, type TestServer } from '../support/server.js';
import { CapturingMailer, from, login } from './support.js';
import { signUp } from '../support/users.js';

const PASSWORD = 'correct horse battery staple';

/** Lockout as denial of service (issue 17 item 3): the daily cap stops stuffing, not the owner. */
describe('per-account daily failure cap without lockout', () => {
  const clock = new FakeClock();
  const mailer = new CapturingMailer();
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ clock, mailer, env: { TESSERA_TRUST_PROXY: 'loopback' } });
  });
  afterAll(async () => s?.close());

  async function register(email: string): Promise<void> {
    await signUp(s, email, PASSWORD);
  }

  /** twenty addresses × 5 wrong passwords: the default cap of 100 failures a day trips */
  async function botnet(email: string, net: number): Promise<void> {
    for (let a = 1; a <= 20; a++) {
      for (let i = 0; i < 5; i++) expect((await login(s.url, email, `wrong password ${i}`, `10.${net}.${a}.1`)).status).toBe(401);
    }
    const capped = await login(s.url, email, 'one more wrong one', `10.${net}.99.1`);
    expect(capped.status).toBe(429);
    expect(capped.headers.get('retry-after')).toBeTruthy();
  }

  it('attack: after the cap, the owner from a new address gets an approval mail, never 429, and the link works once', async () => {
    const email = 'victim@example.com';
    await register(email);
    await botnet(email, 1);
    const mailsBefore = mailer.sent.length;

    const owner = await login(s.url, email, PASSWORD, '192.0.2.10');
    expect(owner.status).toBe(403);
    expect(owner.body.code).toBe('approval_required');
    expect(mailer.sent.length).toBe(mailsBefore + 1);
    const mail = mailer.sent.at(-1)!;
    expect(mail.to).toBe(email);
    expect(mail.text).toContain('192.0.2.10');
    const token = mailer.link(email, 'approve-sign-in');
    expect(token).toMatch(/^[^.]+\.[^.]+$/);
    // the link is stored hashed: the row holds no secret
    const row = await s.t.store.getMfaChallenge(token.split('.')[0]);
    expect(row?.kind).toBe('login_approval');
    expect(row?.secretHash).not.toContain(token.split('.')[1]);

    // a wrong password past the cap still counts and is still refused, from that address as from others
    expect((await login(s.url, email, 'still guessing', '192.0.2.10')).status).toBe(429);
    // an hour later the first link has expired; the owner is still never refused with 429, and asks anew
    clock.advance(60 * 60_000);
    expect((await login(s.url, email, PASSWORD, '192.0.2.10')).body.code).toBe('approval_required');
    const fresh = mailer.link(email, 'approve-sign-in');
    expect(fresh).not.toBe(token);

    const approve = (t: string) => http(s.url, 'POST', '/v1/login/approve', { json: { token: t }, headers: from('198.51.100.200') });
    expect((await approve(token)).status).toBe(400);
    expect((await approve(fresh)).status).toBe(204);
    const again = await approve(fresh);
    expect(again.status).toBe(400);
    expect(again.body.code).toBe('invalid_grant');

    // the approved address signs in; another new address is still held at the cap
    const signedIn = await login(s.url, email, PASSWORD, '192.0.2.10');
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.access_token).toEqual(expect.any(String));
    expect((await login(s.url, email, PASSWORD, '192.0.2.11')).body.code).toBe('approval_required');
    expect((await login(s.url, email, 'a guess', '192.0.2.12')).status).toBe(429);
  });

  it('the approval page asks for a click and does not spend the link by being fetched', async () => {
    const page = await http(s.url, 'GET', '/approve-sign-in?token=abc.def');
    expect(page.status).toBe(200);
    expect(String(page.body)).toContain('data-form="approve-sign-in"');
  });

  it('an expired or forged approval link is refused', async () => {
    const email = 'expiry@example.com';
    await register(email);
    await botnet(email, 2);
    expect((await login(s.url, email, PASSWORD, '192.0.2.20')).body.code).toBe('approval_required');
    const token = mailer.link(email, 'approve-sign-in');
    const forged = `${token.split('.')[0]}.${'A'.repeat(43)}`;
    expect((await http(s.url, 'POST', '/v1/login/approve', { json: { token: forged } })).status).toBe(400);
    clock.advance(16 * 60_000);
    expect((await http(s.url, 'POST', '/v1/login/approve', { json: { token } })).status).toBe(400);
    expect((await login(s.url, email, PASSWORD, '192.0.2.20')).body.code).toBe('approval_required');
  });

  it('attack: after the cap, the owner with a second factor gets the MFA step, and signing in with it clears the cap', async () => {
    const email = 'mfa-victim@example.com';
    await register(email);
    const home = await login(s.url, email, PASSWORD, '203.0.113.30');
    const at = home.body.access_token as string;
    const e = await http(s.url, 'POST', '/v1/mfa/totp', { headers: { ...from('203.0.113.30'), authorization: `Bearer ${at}` } });
    const totp = URI.parse(e.body.otpauth_uri as string) as TOTP;
    const code = () => totp.generate({ timestamp: clock.now() });
    const verify = await http(s.url, 'POST', '/v1/mfa/totp/verify', { json: { code: code() }, headers: { ...from('203.0.113.30'), authorization: `Bearer ${at}` } });
    expect(verify.status).toBe(200);
    clock.advance(30_000);
    await botnet(email, 3);

    const owner = await login(s.url, email, PASSWORD, '192.0.2.30');
    expect(owner.status).toBe(200);
    expect(owner.body).toMatchObject({ mfa_required: true, methods: expect.arrayContaining(['totp']) });
    const done = await http(s.url, 'POST', '/v1/login/mfa', { json: { mfa_token: owner.body.mfa_token, method: 'totp', code: code() }, headers: from('192.0.2.30') });
    expect(done.status).toBe(200);
    // the counters are cleared: yet another new address is not capped any more
    const other = await login(s.url, email, 'a wrong one', '192.0.2.31');
    expect(other.status).toBe(401);
    expect(other.body.code).toBe('invalid_credentials');
  });

  it('a successful reset clears the cap', async () => {
    const email = 'reset-victim@example.com';
    await register(email);
    await botnet(email, 4);
    expect((await http(s.url, 'POST', '/v1/password/forgot', { json: { email } })).status).toBe(202);
    await expect.poll(() => mailer.sent.some((m) => m.to === email && m.text.includes('/reset-password?token='))).toBe(true);
    const reset = await http(s.url, 'POST', '/v1/password/reset', { json: { token: mailer.link(email, 'reset-password'), new_password: 'a fresh passphrase here' } });
    expect(reset.status).toBe(204);
    expect((await login(s.url, email, 'a fresh passphrase here', '192.0.2.40')).status).toBe(200);
  });
});
