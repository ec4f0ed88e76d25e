/**
 * The squatter scenario, end to end over HTTP with a software WebAuthn authenticator and a real SMTP sink.
 * The attacker registered the victim's address under the previous release (no verification then) and gave
 * the account a passkey and TOTP; the database is then taken back to that release's schema (migrations 0005
 * and later undone) and the new release migrates it, as an upgrade would. The owner's password reset must hand the
 * account back clean: the attacker's passkey, TOTP, recovery codes and sessions gone, the owner in with the
 * new password alone.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInWithSecondFactor } from '../support/mfa-sign-in.js';
import { freePort, http, startServer, type TestServer } from '../support/server.js';
import { mailText, startSmtpSink, type SmtpSink } from '../support/smtp.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { mailedToken } from '../support/users.js';

const VICTIM = 'victim@example.com';
const ATTACKER_PASSWORD = 'the squatter passphrase 1';
const OWNER_PASSWORD = 'the rightful owner passphrase 2';
const bearer = (at: string) => ({ authorization: `Bearer ${at}` });

/** back to the schema of the release before email verification: migration 0005 (and every later one) undone */
function downgrade(file: string): void {
  const db = new SqliteDatabase(file);
  try {
    db.exec(`drop index refresh_tokens_used_at; drop index sessions_revoked_at; drop index sessions_last_seen_at;
      drop index password_resets_expires_at; drop index oauth_codes_expires_at; drop index events_created_at;
      drop table email_changes;
      drop index users_created_at;
      alter table users drop column disabled_at;
      drop table email_verifications;
      alter table users drop column email_verified_at;
      alter table users drop column legacy;
      delete from kysely_migration where name >= '0005';`);
  } finally {
    db.close();
  }
}

describe('squatter evicted by the owner\'s password reset (migration from the previous release)', () => {
  let dataDir: string;
  let smtp: SmtpSink;
  let s: TestServer | undefined;
  let issuer: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'tessera-squat-'));
    smtp = await startSmtpSink();
    // one issuer (so one WebAuthn origin) for both releases, whatever port each server gets
    issuer = `http://localhost:${await freePort()}`;
  });
  afterAll(async () => {
    await s?.close();
    await smtp?.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  const start = () => startServer({ dataDir, env: { TESSERA_SMTP_URL: smtp.url, TESSERA_ISSUER: issuer, TESSERA_ALLOWED_ORIGINS: issuer } });

  it('the attacker\'s passkey, TOTP and sessions are gone after the reset; the owner signs in with the password alone', async () => {
    // --- the previous release: anyone could register any address and add factors at once
    s = await start();
    await s.t.accounts.register({ email: VICTIM, password: ATTACKER_PASSWORD });
    const attacker = await signInWithSecondFactor(s.url, VICTIM, ATTACKER_PASSWORD);
    const key = new SoftAuthenticator(issuer);
    const options = await http(s.url, 'POST', '/v1/mfa/webauthn/options', { headers: bearer(attacker.login.access_token) });
    expect(options.status).toBe(200);
    const added = await http(s.url, 'POST', '/v1/mfa/webauthn', { json: { response: key.register(options.body), name: 'squatter key' }, headers: bearer(attacker.login.access_token) });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    await s.close();
    s = undefined;
    downgrade(path.join(dataDir, 'tessera.db'));

    // --- the new release migrates the database: the account is legacy, unverified, and keeps its factors
    s = await start();
    const before = (await s.t.accounts.findUser(VICTIM))!;
    expect(before).toMatchObject({ legacy: true, emailVerifiedAt: null });
    const passkeyLogin = async () => {
      const o = await http(s!.url, 'POST', '/v1/login/webauthn/options', { json: {} });
      return http(s!.url, 'POST', '/v1/login/webauthn', { json: { response: key.authenticate(o.body) } });
    };
    const squatting = await passkeyLogin();
    expect(squatting.status, JSON.stringify(squatting.body)).toBe(200);
    expect((await http(s.url, 'GET', '/v1/me', { headers: bearer(attacker.login.access_token) })).body).toMatchObject({ email_verified: false, mfa: { totp: true, webauthn: true } });
    // grandfathered, but never verified: not one more factor
    const more = await http(s.url, 'POST', '/v1/mfa/webauthn/options', { headers: bearer(squatting.body.access_token) });
    expect(more.status).toBe(403);
    expect(more.body.code).toBe('email_unverified');

    // --- the owner arrives and recovers the account through the mailbox
    expect((await http(s.url, 'POST', '/v1/password/forgot', { json: { email: VICTIM } })).status).toBe(202);
    const token = await mailedToken({ smtp }, VICTIM, 'reset-password');
    expect((await http(s.url, 'POST', '/v1/password/reset', { json: { token, new_password: OWNER_PASSWORD } })).status).toBe(204);

    // every way the attacker had in is gone
    for (const at of [attacker.login.access_token, squatting.body.access_token as string]) {
      expect((await http(s.url, 'GET', '/v1/me', { headers: bearer(at) })).status).toBe(401);
    }
    const refresh = await http(s.url, 'POST', '/v1/token', { form: { grant_type: 'refresh_token', refresh_token: attacker.login.refresh_token } });
    expect(refresh.status).toBeGreaterThanOrEqual(400);
    const keyAgain = await passkeyLogin();
    expect(keyAgain.status).toBeGreaterThanOrEqual(400);
    expect((await http(s.url, 'POST', '/v1/login', { json: { email: VICTIM, password: ATTACKER_PASSWORD } })).status).toBe(401);
    const user = (await s.t.accounts.findUser(VICTIM))!;
    expect(await s.t.mfa.manage.summary(user)).toEqual({ totp: false, passkeys: [], sms: null, recoveryCodesLeft: 0 });
    expect(user.emailVerifiedAt).not.toBeNull();

    // the owner signs in with the new password alone: no second factor they never set up
    const owner = await http(s.url, 'POST', '/v1/login', { json: { email: VICTIM, password: OWNER_PASSWORD } });
    expect(owner.status).toBe(200);
    expect(owner.body.access_token).toEqual(expect.any(String));
    expect(owner.body).not.toHaveProperty('mfa_required');
    expect((await http(s.url, 'GET', '/v1/me', { headers: bearer(owner.body.access_token) })).body.email_verified).toBe(true);

    const events = await s.t.events.list({ userId: user.id, type: 'account_reclaimed' });
    expect(events).toHaveLength(1);
    expect(events[0].data).toEqual({ removed: ['totp', 'passkey', 'recovery_codes'] });
    const notice = mailText((await smtp.waitFor((m) => m.to.includes(VICTIM) && /yours again/.test(m.raw))).raw);
    expect(notice).toContain('the authenticator app');
    expect(notice).toContain('a passkey');
    expect(notice).toContain('the recovery codes');
  });

  it('a reset of an account that was verified removes nothing and records no reclaim', async () => {
    s ??= await start();
    await s.t.accounts.register({ email: 'verified@example.com', password: ATTACKER_PASSWORD });
    const signedIn = await signInWithSecondFactor(s.url, 'verified@example.com', ATTACKER_PASSWORD);
    expect((await http(s.url, 'POST', '/v1/password/forgot', { json: { email: 'verified@example.com' } })).status).toBe(202);
    const token = await mailedToken({ smtp }, 'verified@example.com', 'reset-password');
    expect((await http(s.url, 'POST', '/v1/password/reset', { json: { token, new_password: OWNER_PASSWORD } })).status).toBe(204);
    const user = (await s.t.accounts.findUser('verified@example.com'))!;
    expect((await s.t.mfa.manage.summary(user)).totp).toBe(true);
    expect(await s.t.events.list({ userId: user.id, type: 'account_reclaimed' })).toEqual([]);
    expect((await http(s.url, 'GET', '/v1/me', { headers: bearer(signedIn.login.access_token) })).status).toBe(401);
  });
});
