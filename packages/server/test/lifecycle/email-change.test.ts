/**
 * Change of email (API.md "Account lifecycle"): both mails, the old address no longer signs in, the new one
 * does, other sessions are gone; a taken address gets the same 202 and then 409 at confirmation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { mailText } from '../support/smtp.js';
import { http } from '../support/server.js';
import { signUp } from '../support/users.js';
import { PASSWORD, bearer, linkToken, login, mailTo, startWithMail, type MailServer } from './support.js';

describe('change of email', () => {
  const clock = new FakeClock(Date.now());
  let m: MailServer;
  beforeAll(async () => {
    m = await startWithMail({}, { clock });
  });
  afterAll(async () => m?.close());

  it('mails the new address a link and the old one a notice; confirming moves the account and signs the other sessions out', async () => {
    const { s, sink } = m;
    await signUp(s, 'old@example.com', PASSWORD);
    const other = await login(s, 'old@example.com');
    const me = await login(s, 'old@example.com');
    const r = await http(s.url, 'POST', '/v1/email/change', { json: { new_email: ' New@Example.com ' }, headers: bearer(me.access_token) });
    expect(r.status).toBe(202);
    const confirm = await mailTo(sink, 'new@example.com', '/confirm-email?token=');
    const notice = await mailTo(sink, 'old@example.com', 'new@example.com');
    expect(mailText(notice.raw)).toMatch(/email change requested/i);
    expect(mailText(notice.raw)).not.toContain('/confirm-email');
    // nothing changes before the link is used
    expect((await http(s.url, 'POST', '/v1/login', { json: { email: 'old@example.com', password: PASSWORD } })).status).toBe(200);

    const token = linkToken(confirm, 'confirm-email');
    expect((await http(s.url, 'POST', '/v1/email/change/confirm', { json: { token }, headers: bearer(me.access_token) })).status).toBe(204);
    await mailTo(sink, 'old@example.com', 'was changed from old@example.com to new@example.com');
    await mailTo(sink, 'new@example.com', 'was changed from old@example.com to new@example.com');
    expect((await http(s.url, 'GET', '/v1/me', { headers: bearer(me.access_token) })).body.email).toBe('new@example.com');
    // the other session is gone; the confirming one stays
    expect((await http(s.url, 'GET', '/v1/me', { headers: bearer(other.access_token) })).status).toBe(401);
    expect((await http(s.url, 'POST', '/v1/token', { form: { grant_type: 'refresh_token', refresh_token: other.refresh_token } })).status).toBe(400);
    // the old address cannot sign in any more, the new one can
    expect((await http(s.url, 'POST', '/v1/login', { json: { email: 'old@example.com', password: PASSWORD } })).status).toBe(401);
    await login(s, 'new@example.com');
    // the link works once
    const again = await http(s.url, 'POST', '/v1/email/change/confirm', { json: { token } });
    expect([again.status, again.body.code]).toEqual([400, 'invalid_grant']);
  });

  it('a taken address gets the same 202, and 409 email_taken at confirmation', async () => {
    const { s, sink } = m;
    await signUp(s, 'taker@example.com', PASSWORD);
    await signUp(s, 'owner@example.com', PASSWORD);
    const me = await login(s, 'taker@example.com');
    const free = await http(s.url, 'POST', '/v1/email/change', { json: { new_email: 'free@example.com' }, headers: bearer(me.access_token) });
    const taken = await http(s.url, 'POST', '/v1/email/change', { json: { new_email: 'owner@example.com' }, headers: bearer(me.access_token) });
    expect(taken.status).toBe(202);
    expect(taken.body).toEqual(free.body);
    const token = linkToken(await mailTo(sink, 'owner@example.com', '/confirm-email?token='), 'confirm-email');
    const r = await http(s.url, 'POST', '/v1/email/change/confirm', { json: { token } });
    expect([r.status, r.body.code]).toEqual([409, 'email_taken']);
    expect((await http(s.url, 'GET', '/v1/me', { headers: bearer(me.access_token) })).body.email).toBe('taker@example.com');
  });

  it('attack: a reset link mailed to the old address dies with the change', async () => {
    const { s, sink } = m;
    await signUp(s, 'moving@example.com', PASSWORD);
    await http(s.url, 'POST', '/v1/password/forgot', { json: { email: 'moving@example.com' } });
    const reset = linkToken(await mailTo(sink, 'moving@example.com', '/reset-password?token='), 'reset-password');
    const me = await login(s, 'moving@example.com');
    await http(s.url, 'POST', '/v1/email/change', { json: { new_email: 'moved@example.com' }, headers: bearer(me.access_token) });
    const token = linkToken(await mailTo(sink, 'moved@example.com', '/confirm-email?token='), 'confirm-email');
    expect((await http(s.url, 'POST', '/v1/email/change/confirm', { json: { token } })).status).toBe(204);
    const r = await http(s.url, 'POST', '/v1/password/reset', { json: { token: reset, new_password: 'an attacker chosen passphrase' } });
    expect([r.status, r.body.code]).toEqual([400, 'invalid_grant']);
  });

  it('attack: a stale session (sign-in over 5 minutes ago) cannot ask for a change', async () => {
    const { s } = m;
    await signUp(s, 'stale@example.com', PASSWORD);
    const me = await login(s, 'stale@example.com');
    clock.advance(6 * 60_000);
    const fresh = (await http(s.url, 'POST', '/v1/token', { form: { grant_type: 'refresh_token', refresh_token: me.refresh_token } })).body as { access_token: string };
    const r = await http(s.url, 'POST', '/v1/email/change', { json: { new_email: 'attacker@example.com' }, headers: bearer(fresh.access_token) });
    expect([r.status, r.body.code]).toEqual([403, 'reauthentication_required']);
  });

  it('an expired link is refused', async () => {
    const { s, sink } = m;
    await signUp(s, 'slow@example.com', PASSWORD);
    const me = await login(s, 'slow@example.com');
    await http(s.url, 'POST', '/v1/email/change', { json: { new_email: 'slow2@example.com' }, headers: bearer(me.access_token) });
    const token = linkToken(await mailTo(sink, 'slow2@example.com', '/confirm-email?token='), 'confirm-email');
    clock.advance(24 * 3600_000 + 1000);
    const r = await http(s.url, 'POST', '/v1/email/change/confirm', { json: { token } });
    expect([r.status, r.body.code]).toEqual([400, 'invalid_grant']);
  });
});
