/**
 * Security notices (API.md): password, factors and recovery codes are mailed with the wording of the
 * activity timeline, and the timeline speaks in words ("Signed in with password and authenticator app").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { emailChangeConfirmMail, emailChangedMail, newSignInMail } from '../../src/core/notices/templates.js';
import { describeBrowser, describeReason, describeSignIn, eventTitle } from '../../src/core/notices/wording.js';
import { signInWithSecondFactor } from '../support/mfa-sign-in.js';
import { mailText } from '../support/smtp.js';
import { http } from '../support/server.js';
import { signUp } from '../support/users.js';
import { PASSWORD, bearer, login, mailTo, startWithMail, type MailServer } from './support.js';

describe('security notices by mail, in the timeline\'s words', () => {
  const clock = new FakeClock(Date.now());
  let m: MailServer;
  beforeAll(async () => {
    m = await startWithMail({}, { clock });
  });
  afterAll(async () => m?.close());

  it('factor added, recovery codes regenerated, password changed, factor removed: one mail each, as the timeline says', async () => {
    const { s, sink } = m;
    await signUp(s, 'careful@example.com', PASSWORD);
    const { login: me, totp } = await signInWithSecondFactor(s.url, 'careful@example.com', PASSWORD, () => clock.now());
    const added = await mailTo(sink, 'careful@example.com', 'Added an authenticator app for two-step verification');
    expect(added.raw).toContain('text/html');
    expect(mailText(added.raw)).toContain('/account/events');
    expect((await http(s.url, 'POST', '/v1/mfa/recovery-codes', { headers: bearer(me.access_token) })).status).toBe(200);
    await mailTo(sink, 'careful@example.com', 'Your previous recovery codes no longer work');
    const pw = await http(s.url, 'POST', '/v1/password/change', { json: { current_password: PASSWORD, new_password: 'another long passphrase' }, headers: bearer(me.access_token) });
    expect(pw.status).toBe(204);
    await mailTo(sink, 'careful@example.com', 'Password changed on your Tessera account');

    // a TOTP sign-in is told as such on the timeline
    clock.advance(60_000);
    const step = await http(s.url, 'POST', '/v1/login', { json: { email: 'careful@example.com', password: 'another long passphrase' } });
    const done = await http(s.url, 'POST', '/v1/login/mfa', { json: { mfa_token: step.body.mfa_token, method: 'totp', code: totp.generate({ timestamp: clock.now() }) } });
    expect(done.status).toBe(200);
    const auth = bearer(done.body.access_token as string);
    expect((await http(s.url, 'DELETE', '/v1/mfa/totp', { headers: auth })).status).toBe(204);
    await mailTo(sink, 'careful@example.com', 'Removed an authenticator app from two-step verification');

    const events = (await http(s.url, 'GET', '/v1/events', { headers: auth })).body as Array<{ type: string; title: string }>;
    const titles = events.map((e) => e.title);
    expect(titles).toContain('Signed in with password and authenticator app');
    expect(titles).toContain('Signed in with password and recovery code');
    expect(titles).toContain('Signed in with password');
    expect(titles).toContain('Password changed');
    expect(titles.join('\n')).not.toMatch(/pwd|otp|mfa|\+/);
    const page = await fetch(`${s.url}/account/events`, { headers: auth });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Signed in with password and authenticator app');
    expect(html).not.toMatch(/pwd \+|\+ otp|wrong_code/);
  });

  it('a password reset is mailed as done', async () => {
    const { s, sink } = m;
    await signUp(s, 'forgetful@example.com', PASSWORD);
    await login(s, 'forgetful@example.com');
    await http(s.url, 'POST', '/v1/password/forgot', { json: { email: 'forgetful@example.com' } });
    const link = await mailTo(sink, 'forgetful@example.com', '/reset-password?token=');
    const token = /reset-password\?token=([A-Za-z0-9._~%-]+)/.exec(mailText(link.raw))![1];
    expect((await http(s.url, 'POST', '/v1/password/reset', { json: { token: decodeURIComponent(token), new_password: 'a fresh new passphrase' } })).status).toBe(204);
    await mailTo(sink, 'forgetful@example.com', 'Password reset on your Tessera account');
  });
});

describe('wording', () => {
  it('names every sign-in method in words', () => {
    expect(describeSignIn(['pwd'])).toBe('password');
    expect(describeSignIn(['pwd', 'otp', 'mfa'], 'totp')).toBe('password and authenticator app');
    expect(describeSignIn(['pwd', 'otp', 'mfa'])).toBe('password and one-time code');
    expect(describeSignIn(['swk', 'user'])).toBe('passkey');
    expect(describeSignIn(['pwd', 'hwk', 'mfa'], 'webauthn')).toBe('password and security key');
    expect(eventTitle('passkey_added', { name: 'Laptop' })).toBe('Added the passkey “Laptop” for two-step verification');
    expect(eventTitle('some_new_type', {})).toBe('some new type');
    expect(describeBrowser({ browser: 'curl', os: 'other' })).toBe('curl');
    expect(describeBrowser({ browser: 'other', os: 'other' })).toBe('Unknown browser');
    expect(describeReason('wrong_code')).toBe('wrong code');
  });

  it('a sign-in from a new country says so; a new device says so', () => {
    const at = Date.UTC(2026, 0, 1);
    expect(newSignInMail({ place: 'Paris, FR', at, ip: null, device: null, newCountry: true }).text).toContain('a country it has not been used from before');
    expect(newSignInMail({ place: null, at, ip: null, device: null }).text).toContain('from a new device');
  });

  it('attack: an address chosen by the requester cannot put markup into the mails', () => {
    const evil = '<img src=x onerror=alert(1)>@evil.test';
    const confirm = emailChangeConfirmMail({ link: 'https://auth.example.com/confirm-email?token=a.b', newEmail: evil, expiresInHours: 24 });
    const done = emailChangedMail({ oldEmail: 'a@example.com', newEmail: evil, at: Date.UTC(2026, 0, 1) });
    for (const m of [confirm, done]) {
      expect(m.html).not.toContain('<img');
      expect(m.html).toContain('&lt;img');
      expect(m.subject).not.toContain('evil');
    }
  });
});
