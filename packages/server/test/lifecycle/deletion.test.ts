/**
 * Deletion and export (API.md "Account lifecycle"): a resource server with the SDK refuses the deleted
 * user's token within a second; the rows are gone (asserted on the tables), the events stay without PII,
 * the address signs up again; the export holds the sessions and events and no hash or secret.
 */
import { createVerifier, isTesseraTokenError } from '@tessera/sdk';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomToken, sha256 } from '../../src/core/crypto.js';
import type { SqlStore } from '../../src/store/sql/store.js';
import { signInWithSecondFactor } from '../support/mfa-sign-in.js';
import { http } from '../support/server.js';
import { signUp } from '../support/users.js';
import { PASSWORD, bearer, login, mailTo, startWithMail, type MailServer } from './support.js';

/** every table with a user_id column, and how many rows name the user */
async function rowsNaming(db: SqlStore['db'], userId: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['users', 'sessions', 'password_resets', 'email_changes', 'mfa_totp', 'recovery_codes', 'webauthn_credentials', 'mfa_challenges', 'mfa_sms', 'oauth_consents', 'oauth_sessions', 'oauth_codes']) {
    const col = table === 'users' ? 'id' : 'user_id';
    const r = await sql<{ n: number }>`select count(*) as n from ${sql.table(table)} where ${sql.ref(col)} = ${userId}`.execute(db);
    out[table] = Number(r.rows[0]?.n ?? 0);
  }
  return out;
}

describe('deletion of an account', () => {
  let m: MailServer;
  beforeAll(async () => {
    m = await startWithMail();
  });
  afterAll(async () => m?.close());

  it('the SDK refuses the token within 1 s; every row naming the user is gone; events stay without PII; the address is free', async () => {
    const { s, sink } = m;
    const db = (s.t.store as SqlStore).db;
    await signUp(s, 'leaving@example.com', PASSWORD);
    const { login: mfa } = await signInWithSecondFactor(s.url, 'leaving@example.com', PASSWORD);
    const userId = (await http(s.url, 'GET', '/v1/me', { headers: bearer(mfa.access_token) })).body.id as string;
    await s.t.store.putConsent({ userId, clientId: 'app_x', scope: 'openid', createdAt: Date.now() });
    const secret = randomToken();
    await s.t.store.createClient({ id: 'rs_delete', name: 'notes', secretHash: sha256(secret), createdAt: Date.now() });
    const v = createVerifier({ issuer: s.t.config.issuer, clientId: 'rs_delete', clientSecret: secret });
    try {
      await v.ready();
      await expect(v.verify(mfa.access_token)).resolves.toMatchObject({ sub: userId });
      const before = await rowsNaming(db, userId);
      expect(before).toMatchObject({ users: 1, mfa_totp: 1, oauth_consents: 1 });
      expect(before.sessions).toBeGreaterThan(0);

      const t0 = Date.now();
      expect((await http(s.url, 'DELETE', '/v1/me', { headers: bearer(mfa.access_token) })).status).toBe(204);
      for (;;) {
        const err = await v.verify(mfa.access_token).then(() => undefined, (e: unknown) => e);
        if (err !== undefined) {
          expect(isTesseraTokenError(err) && err.code).toBe('token_revoked');
          break;
        }
        if (Date.now() - t0 > 1000) throw new Error('the deleted user\'s token is still accepted after 1 s');
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      await v.close();
    }
    expect(Object.values(await rowsNaming(db, userId)).every((n) => n === 0), JSON.stringify(await rowsNaming(db, userId))).toBe(true);
    const events = await sql<{ type: string; ip: string | null; data: string }>`select type, ip, data from events where user_id = ${userId}`.execute(db);
    expect(events.rows.map((e) => e.type)).toEqual(expect.arrayContaining(['account_created', 'login_succeeded', 'mfa_enrolled', 'account_deleted']));
    for (const e of events.rows) {
      expect(e.ip).toBeNull();
      expect(e.data).not.toMatch(/leaving@|user_agent|node|127\.0\.0\.1|"city"|"country"/);
    }
    await mailTo(sink, 'leaving@example.com', 'account was deleted');
    // the same address signs up again, as a new account
    await signUp(s, 'leaving@example.com', PASSWORD);
    const again = await login(s, 'leaving@example.com');
    expect((await http(s.url, 'GET', '/v1/me', { headers: bearer(again.access_token) })).body.id).not.toBe(userId);
  });

  it('needs a recent sign-in', async () => {
    const { s } = m;
    await signUp(s, 'keep@example.com', PASSWORD);
    const me = await login(s, 'keep@example.com');
    await (s.t.store as SqlStore).db.updateTable('sessions').set({ authTime: Date.now() - 10 * 60_000 }).where('id', '=', me.session_id).execute();
    const r = await http(s.url, 'DELETE', '/v1/me', { headers: bearer(me.access_token) });
    expect([r.status, r.body.code]).toEqual([403, 'reauthentication_required']);
  });
});

describe('export of an account', () => {
  let m: MailServer;
  beforeAll(async () => {
    m = await startWithMail();
  });
  afterAll(async () => m?.close());

  it('is an attachment with the profile, sessions, events, factors and apps, and no hash or secret', async () => {
    const { s } = m;
    await signUp(s, 'curious@example.com', PASSWORD);
    const { login: me, recoveryCodes } = await signInWithSecondFactor(s.url, 'curious@example.com', PASSWORD);
    const r = await http(s.url, 'GET', '/v1/me/export', { headers: bearer(me.access_token) });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-disposition')).toMatch(/^attachment; filename="tessera-export-\d{4}-\d{2}-\d{2}\.json"$/);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const doc = r.body as { profile: { email: string }; sessions: Array<{ id: string; ip: string }>; events: Array<{ type: string }>; factors: { totp: boolean }; apps: unknown[] };
    expect(doc.profile.email).toBe('curious@example.com');
    expect(doc.sessions.map((x) => x.id)).toContain(me.session_id);
    expect(doc.sessions.length).toBeGreaterThanOrEqual(2);
    expect(doc.events.map((e) => e.type)).toEqual(expect.arrayContaining(['account_created', 'login_succeeded', 'mfa_enrolled']));
    expect(doc.factors.totp).toBe(true);
    expect(doc.apps).toEqual([]);
    // nothing that would let anyone sign in: no argon2 hash, TOTP secret, refresh token or recovery code
    const text = JSON.stringify(doc);
    const user = (await s.t.store.getUserByEmail('curious@example.com'))!;
    const totp = (await s.t.store.getTotp(user.id))!;
    expect(text).not.toContain('$argon2');
    expect(text).not.toContain(user.passwordHash);
    expect(text).not.toContain(totp.secretSealed);
    expect(text).not.toContain(me.refresh_token);
    expect(text).not.toContain(me.refresh_token.split('.')[1]);
    for (const code of recoveryCodes) expect(text).not.toContain(code);
    expect(text).not.toMatch(/secret|_hash|sealed/i);
  });
});
