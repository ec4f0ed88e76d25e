/**
 * Email verification over HTTP with a real SMTP sink: sign-up does not enumerate accounts (same answer and
 * time for a taken address, a different mail to its owner), the link is single use and expires, resends
 * are capped, an unverified account cannot sign in (after the right password only) or enrol a factor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { VERIFICATION_MAILS_PER_HOUR } from '../../src/core/verification.js';
import { http, startServer, type TestServer } from '../support/server.js';
import { mailText, startSmtpSink, type SmtpSink } from '../support/smtp.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { linkCount, mailCount, mailedToken, signUp } from '../support/users.js';

const PASSWORD = 'correct horse battery staple';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bearer = (at: string) => ({ authorization: `Bearer ${at}` });

describe('email verification (real SMTP)', () => {
  let s: TestServer;
  let smtp: SmtpSink;
  const clock = new FakeClock(Date.now());
  const box = () => ({ smtp });
  const mailsTo = (to: string) => smtp.mail.filter((m) => m.to.includes(to)).map((m) => mailText(m.raw));
  beforeAll(async () => {
    smtp = await startSmtpSink();
    s = await startServer({ clock, env: { TESSERA_SMTP_URL: smtp.url } });
  });
  afterAll(async () => {
    await s?.close();
    await smtp?.close();
  });

  it('sign-up of a taken and a free address: same status and body; the owner gets a different mail, with sign-in and reset links', async () => {
    await signUp(s, 'owner@example.com', PASSWORD, box());
    const taken = await http(s.url, 'POST', '/v1/accounts', { json: { email: 'Owner@Example.com', password: 'another fine passphrase' } });
    const free = await http(s.url, 'POST', '/v1/accounts', { json: { email: 'newcomer@example.com', password: PASSWORD } });
    expect(taken.status).toBe(202);
    expect(free.status).toBe(202);
    expect(taken.body).toEqual(free.body);
    expect(taken.body).toEqual({ status: 'verification_sent' });
    await smtp.waitFor((m) => m.to.includes('owner@example.com') && /already has one/.test(mailText(m.raw)));
    const ownerMail = mailsTo('owner@example.com').at(-1)!;
    expect(ownerMail).toContain(`${s.t.config.issuer}/sign-in`);
    expect(ownerMail).toContain(`${s.t.config.issuer}/forgot-password`);
    expect(ownerMail).not.toContain('/verify-email?token=');
    const newcomer = await mailedToken(box(), 'newcomer@example.com', 'verify-email');
    expect(mailsTo('newcomer@example.com').join('\n')).not.toContain('already has one');
    expect(newcomer).toMatch(/\./);
    // the taken address kept its owner's password
    expect((await http(s.url, 'POST', '/v1/login', { json: { email: 'owner@example.com', password: PASSWORD } })).status).toBe(200);
  });

  it('sign-up timing: a taken address answers within 20 % of a free one (paired medians)', async () => {
    await signUp(s, 'timed@example.com', PASSWORD, box());
    const time = async (email: string) => {
      const t0 = process.hrtime.bigint();
      const r = await http(s.url, 'POST', '/v1/accounts', { json: { email, password: PASSWORD } });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      expect(r.status).toBe(202);
      await pause(30); // let the mail work after the answer finish, so it slows neither side
      return ms;
    };
    for (let i = 0; i < 3; i++) {
      await time('timed@example.com');
      await time(`warm-${i}@example.com`);
    }
    const taken: number[] = [];
    const free: number[] = [];
    for (let i = 0; i < 25; i++) {
      taken.push(await time('timed@example.com'));
      free.push(await time(`fresh-${i}@example.com`));
    }
    const ratio = median(taken) / median(free);
    expect(ratio).toBeGreaterThan(0.8);
    expect(ratio).toBeLessThan(1.2);
  });

  it('the link works once; a used, unknown or expired link is invalid_grant', async () => {
    await http(s.url, 'POST', '/v1/accounts', { json: { email: 'once@example.com', password: PASSWORD } });
    const token = await mailedToken(box(), 'once@example.com', 'verify-email');
    expect((await http(s.url, 'POST', '/v1/email/verify', { json: { token } })).status).toBe(204);
    const again = await http(s.url, 'POST', '/v1/email/verify', { json: { token } });
    expect(again.status).toBe(400);
    expect(again.body.code).toBe('invalid_grant');
    expect((await http(s.url, 'POST', '/v1/email/verify', { json: { token: 'abc.not-a-real-secret' } })).body.code).toBe('invalid_grant');
    expect((await http(s.url, 'POST', '/v1/email/verify', { json: { token: `${token.split('.')[0]}.wrongsecret` } })).body.code).toBe('invalid_grant');

    await http(s.url, 'POST', '/v1/accounts', { json: { email: 'late@example.com', password: PASSWORD } });
    const stale = await mailedToken(box(), 'late@example.com', 'verify-email');
    clock.advance(24 * 3_600_000 + 1000);
    const expired = await http(s.url, 'POST', '/v1/email/verify', { json: { token: stale } });
    expect(expired.status).toBe(400);
    expect(expired.body.code).toBe('invalid_grant');
    expect((await s.t.accounts.findUser('late@example.com'))!.emailVerifiedAt).toBeNull();
  });

  it('resend: the same 202 for any address; mails to one account are capped per hour', async () => {
    const unknown = await http(s.url, 'POST', '/v1/email/verification', { json: { email: 'nobody-here@example.com' } });
    await http(s.url, 'POST', '/v1/accounts', { json: { email: 'resend@example.com', password: PASSWORD } });
    await mailedToken(box(), 'resend@example.com', 'verify-email');
    const answers = [];
    for (let i = 0; i < VERIFICATION_MAILS_PER_HOUR + 3; i++) answers.push(await http(s.url, 'POST', '/v1/email/verification', { json: { email: 'resend@example.com' } }));
    for (const a of [unknown, ...answers]) {
      expect(a.status).toBe(202);
      expect(a.body).toEqual({ status: 'accepted' });
    }
    await pause(500);
    // sign-up's mail plus the resends, never more than the hourly budget
    expect(await linkCount(box(), 'resend@example.com', 'verify-email')).toBe(VERIFICATION_MAILS_PER_HOUR);
    expect(await mailCount(box(), 'nobody-here@example.com')).toBe(0);
    // a resent link works (the newest one)
    const token = await mailedToken(box(), 'resend@example.com', 'verify-email');
    expect((await http(s.url, 'POST', '/v1/email/verify', { json: { token } })).status).toBe(204);
  });

  it('unverified: the correct password answers 403 email_unverified (and mails a new link), a wrong one 401', async () => {
    await http(s.url, 'POST', '/v1/accounts', { json: { email: 'pending@example.com', password: PASSWORD } });
    await mailedToken(box(), 'pending@example.com', 'verify-email');
    const wrong = await http(s.url, 'POST', '/v1/login', { json: { email: 'pending@example.com', password: 'not the password at all' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('invalid_credentials');
    const right = await http(s.url, 'POST', '/v1/login', { json: { email: 'pending@example.com', password: PASSWORD } });
    expect(right.status).toBe(403);
    expect(right.body.code).toBe('email_unverified');
    expect(right.body).not.toHaveProperty('access_token');
    await mailedToken(box(), 'pending@example.com', 'verify-email', { skip: 1 });
    expect(await s.t.sessions.listLive((await s.t.accounts.findUser('pending@example.com'))!.id)).toEqual([]);
    // following the link lets the same password in
    const token = await mailedToken(box(), 'pending@example.com', 'verify-email');
    expect((await http(s.url, 'POST', '/v1/email/verify', { json: { token } })).status).toBe(204);
    const login = await http(s.url, 'POST', '/v1/login', { json: { email: 'pending@example.com', password: PASSWORD } });
    expect(login.status).toBe(200);
    const me = await http(s.url, 'GET', '/v1/me', { headers: bearer(login.body.access_token) });
    expect(me.body.email_verified).toBe(true);
  });
});

describe('TESSERA_REQUIRE_VERIFIED_EMAIL=false: unverified accounts sign in, but never enrol a factor', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ env: { TESSERA_REQUIRE_VERIFIED_EMAIL: 'false', TESSERA_MFA_SMS_OTP: 'true' } });
  });
  afterAll(async () => s?.close());

  it('attack: a squatter on an unverified address cannot add a passkey, TOTP, phone or recovery codes', async () => {
    await http(s.url, 'POST', '/v1/accounts', { json: { email: 'squat@example.com', password: PASSWORD } });
    const login = await http(s.url, 'POST', '/v1/login', { json: { email: 'squat@example.com', password: PASSWORD } });
    expect(login.status).toBe(200);
    const auth = bearer(login.body.access_token);
    expect((await http(s.url, 'GET', '/v1/me', { headers: auth })).body.email_verified).toBe(false);
    const attempts = [
      await http(s.url, 'POST', '/v1/mfa/totp', { headers: auth }),
      await http(s.url, 'POST', '/v1/mfa/totp/verify', { json: { code: '123456' }, headers: auth }),
      await http(s.url, 'POST', '/v1/mfa/webauthn/options', { headers: auth }),
      await http(s.url, 'POST', '/v1/mfa/webauthn', { json: { response: new SoftAuthenticator(s.t.config.issuer).register({ challenge: 'AAAAAAAAAAAAAAAAAAAAAA', user: { id: 'x' } }), name: 'mine' }, headers: auth }),
      await http(s.url, 'POST', '/v1/mfa/sms', { json: { phone: '+447700900123' }, headers: auth }),
      await http(s.url, 'POST', '/v1/mfa/recovery-codes', { headers: auth }),
    ];
    for (const r of attempts) {
      expect(r.status, JSON.stringify(r.body)).toBe(403);
      expect(r.body.code).toBe('email_unverified');
    }
    const user = (await s.t.accounts.findUser('squat@example.com'))!;
    expect(await s.t.mfa.manage.summary(user)).toMatchObject({ totp: false, passkeys: [], sms: null, recoveryCodesLeft: 0 });
  });
});
