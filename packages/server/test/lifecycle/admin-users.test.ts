/**
 * Admin user management (API.md "Administration"): list, search and paging over 1,000 users; create → the
 * set-password mail → sign-in; disable → 403 and sessions revoked, enable; delete.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInWithSecondFactor } from '../support/mfa-sign-in.js';
import { http } from '../support/server.js';
import { user } from '../support/store-fixtures.js';
import { signUp } from '../support/users.js';
import { PASSWORD, bearer, linkToken, login, mailTo, startWithMail, type MailServer } from './support.js';

const BULK = 1000;

describe('admin user management', () => {
  let m: MailServer;
  let admin: () => Record<string, string>;
  beforeAll(async () => {
    m = await startWithMail();
    await m.s.t.accounts.register({ email: 'root@example.com', password: PASSWORD, isAdmin: true });
    const t0 = Date.UTC(2025, 0, 1);
    // through the store, not HTTP: a thousand argon2 hashes would take minutes
    for (let i = 0; i < BULK; i++) {
      expect(await m.s.t.store.createUser(user({ email: `bulk-${String(i).padStart(4, '0')}@example.com`, createdAt: t0 + Math.floor(i / 3) }))).toBe(true);
    }
    const { login: root } = await signInWithSecondFactor(m.s.url, 'root@example.com', PASSWORD);
    admin = () => bearer(root.access_token);
  }, 60_000);
  afterAll(async () => m?.close());

  const list = async (q: string) => {
    const r = await http(m.s.url, 'GET', `/v1/admin/users${q}`, { headers: admin() });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body as { items: Array<{ id: string; email: string; created_at: string; disabled: boolean; mfa: boolean; email_verified: boolean }>; next_cursor: string | null };
  };

  it('pages through every user once, in creation order, with a cursor', async () => {
    const seen: string[] = [];
    const keys: Array<[string, string]> = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await list(`?limit=200${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(200);
      seen.push(...page.items.map((u) => u.email));
      keys.push(...page.items.map((u): [string, string] => [u.created_at, u.id]));
      cursor = page.next_cursor;
      pages++;
    } while (cursor !== null);
    expect(pages).toBeGreaterThanOrEqual(5);
    expect(seen).toHaveLength(new Set(seen).size);
    const bulk = seen.filter((e) => e.startsWith('bulk-'));
    expect(bulk).toHaveLength(BULK);
    // (created_at, id) order: ids break the ties of users created in the same millisecond
    const ordered = [...keys].sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1));
    expect(keys).toEqual(ordered);
    const first = await list('');
    expect(first.items).toHaveLength(50);
    expect(first.items[0]).toMatchObject({ email: expect.stringMatching(/^bulk-000[0-2]@example\.com$/), disabled: false, mfa: false, email_verified: expect.any(Boolean), last_sign_in_at: null, password_reset_required: false });
    expect((await list('?query=root@')).items[0]).toMatchObject({ email: 'root@example.com', mfa: true });
  });

  it('searches by email prefix (normalized) and by exact id; a bad cursor is 400', async () => {
    const prefix = await list('?query=BULK-01&limit=200');
    expect(prefix.items).toHaveLength(100);
    expect(prefix.items.every((u) => u.email.startsWith('bulk-01'))).toBe(true);
    const literal = await list(`?query=${encodeURIComponent('bulk-0%')}`);
    expect(literal.items).toEqual([]);
    const one = prefix.items[7];
    expect((await list(`?query=${one.id}`)).items.map((u) => u.email)).toEqual([one.email]);
    const bad = await http(m.s.url, 'GET', '/v1/admin/users?cursor=bm9wZQ', { headers: admin() });
    expect([bad.status, bad.body.code]).toEqual([400, 'invalid_request']);
  });

  it('creates a user who is mailed a set-password link and then signs in', async () => {
    const r = await http(m.s.url, 'POST', '/v1/admin/users', { json: { email: 'Invited@Example.com' }, headers: admin() });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ email: 'invited@example.com', admin: false, disabled: false });
    const token = linkToken(await mailTo(m.sink, 'invited@example.com', '/reset-password?token='), 'reset-password');
    expect((await http(m.s.url, 'POST', '/v1/password/reset', { json: { token, new_password: 'my very own passphrase' } })).status).toBe(204);
    await login(m.s, 'invited@example.com', 'my very own passphrase');
    const taken = await http(m.s.url, 'POST', '/v1/admin/users', { json: { email: 'invited@example.com' }, headers: admin() });
    expect([taken.status, taken.body.code]).toEqual([409, 'email_taken']);
  });

  it('disable revokes the sessions and refuses sign-in and refresh with 403 account_disabled; enable lets the user back', async () => {
    await signUp(m.s, 'unruly@example.com', PASSWORD);
    const u = await login(m.s, 'unruly@example.com');
    const id = (await list('?query=unruly@')).items[0].id;
    expect((await http(m.s.url, 'POST', `/v1/admin/users/${id}/disable`, { headers: admin() })).status).toBe(204);
    expect((await http(m.s.url, 'GET', '/v1/me', { headers: bearer(u.access_token) })).status).toBe(401);
    expect((await http(m.s.url, 'POST', '/v1/token', { form: { grant_type: 'refresh_token', refresh_token: u.refresh_token } })).status).toBeGreaterThanOrEqual(400);
    const l = await http(m.s.url, 'POST', '/v1/login', { json: { email: 'unruly@example.com', password: PASSWORD } });
    expect([l.status, l.body.code]).toEqual([403, 'account_disabled']);
    // a wrong password is still just wrong: disabled is told only after the right one
    expect((await http(m.s.url, 'POST', '/v1/login', { json: { email: 'unruly@example.com', password: 'wrong wrong wrong' } })).status).toBe(401);
    expect((await list('?query=unruly@')).items[0].disabled).toBe(true);
    expect((await http(m.s.url, 'POST', `/v1/admin/users/${id}/enable`, { headers: admin() })).status).toBe(204);
    await login(m.s, 'unruly@example.com');
  });

  it('attack: a refresh that raced the disabling is refused', async () => {
    await signUp(m.s, 'racer@example.com', PASSWORD);
    const u = await login(m.s, 'racer@example.com');
    const user = (await m.s.t.store.getUserByEmail('racer@example.com'))!;
    // disabled without the revocation (as if the refresh read the session just before it)
    await m.s.t.store.setDisabledAt(user.id, Date.now());
    const r = await http(m.s.url, 'POST', '/v1/token', { form: { grant_type: 'refresh_token', refresh_token: u.refresh_token } });
    expect([r.status, r.body.code]).toEqual([403, 'account_disabled']);
  });

  it('deletes a user as DELETE /v1/me does', async () => {
    await signUp(m.s, 'gone@example.com', PASSWORD);
    const u = await login(m.s, 'gone@example.com');
    const id = (await list('?query=gone@')).items[0].id;
    expect((await http(m.s.url, 'DELETE', `/v1/admin/users/${id}`, { headers: admin() })).status).toBe(204);
    expect((await http(m.s.url, 'GET', '/v1/me', { headers: bearer(u.access_token) })).status).toBe(401);
    expect(await m.s.t.store.getUserById(id)).toBeUndefined();
    expect((await list('?query=gone@')).items).toEqual([]);
    await mailTo(m.sink, 'gone@example.com', 'by an administrator');
    expect((await http(m.s.url, 'DELETE', `/v1/admin/users/${id}`, { headers: admin() })).status).toBe(404);
  });
});
