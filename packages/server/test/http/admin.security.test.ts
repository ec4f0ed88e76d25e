/**
 * Security review, item 6: an admin session that is old (a forgotten laptop, a leaked refresh token) or
 * was opened with a password alone (phished) cannot run admin actions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { signInWithSecondFactor } from '../support/mfa-sign-in.js';
import { http, startServer, type TestServer } from '../support/server.js';

const PASSWORD = 'correct horse battery staple';
const bearer = (at: string) => ({ authorization: `Bearer ${at}` });

/** Every admin endpoint with a harmless target (an unknown user answers 404 once the caller is let in). */
const ADMIN_CALLS: Array<[string, string]> = [
  ['GET', '/v1/admin/events'],
  ['GET', '/v1/admin/users/nobody'],
  ['POST', '/v1/admin/users/nobody/revoke-sessions'],
  ['POST', '/v1/admin/users/nobody/require-password-reset'],
  ['POST', '/v1/admin/users/nobody/unlock'],
  ['GET', '/v1/admin/users'],
  ['POST', '/v1/admin/users/nobody/disable'],
  ['POST', '/v1/admin/users/nobody/enable'],
  ['DELETE', '/v1/admin/users/nobody'],
];

async function refresh(base: string, refreshToken: string): Promise<{ access_token: string; refresh_token: string }> {
  const r = await http(base, 'POST', '/v1/token', { form: { grant_type: 'refresh_token', refresh_token: refreshToken } });
  expect(r.status).toBe(200);
  return r.body as { access_token: string; refresh_token: string };
}

describe('admin actions need a recent sign-in with a second factor', () => {
  const clock = new FakeClock(Date.now());
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ clock });
    await s.t.accounts.register({ email: 'root@example.com', password: PASSWORD, isAdmin: true });
    await s.t.accounts.register({ email: 'pwd-only@example.com', password: PASSWORD, isAdmin: true });
  });
  afterAll(async () => s?.close());

  it('a password-only admin session gets 403 mfa_required on every admin call', async () => {
    const l = await http(s.url, 'POST', '/v1/login', { json: { email: 'pwd-only@example.com', password: PASSWORD } });
    expect(l.status).toBe(200);
    for (const [method, path] of ADMIN_CALLS) {
      const r = await http(s.url, method, path, { headers: bearer(l.body.access_token as string) });
      expect([path, r.status, r.body.code]).toEqual([path, 403, 'mfa_required']);
    }
  });

  it('with a second factor and a fresh sign-in the calls go through; a stale session gets 403 reauthentication_required', async () => {
    const { login } = await signInWithSecondFactor(s.url, 'root@example.com', PASSWORD, () => clock.now());
    for (const [method, path] of ADMIN_CALLS) {
      const r = await http(s.url, method, path, { headers: bearer(login.access_token) });
      expect([path, r.status]).toEqual([path, method === 'GET' && !path.includes('nobody') ? 200 : 404]);
    }
    // Six minutes on, the session still refreshes (fresh access token) but its sign-in is too old.
    clock.advance(6 * 60_000);
    const later = await refresh(s.url, login.refresh_token);
    for (const [method, path] of ADMIN_CALLS) {
      const r = await http(s.url, method, path, { headers: bearer(later.access_token) });
      expect([path, r.status, r.body.code]).toEqual([path, 403, 'reauthentication_required']);
    }
    // Ordinary calls of that session still work: only admin actions are held to the recent sign-in.
    expect((await http(s.url, 'GET', '/v1/me', { headers: bearer(later.access_token) })).status).toBe(200);
  });
});

describe('with TESSERA_ADMIN_REQUIRE_MFA=false', () => {
  const clock = new FakeClock(Date.now());
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ clock, env: { TESSERA_ADMIN_REQUIRE_MFA: 'false' } });
    await s.t.accounts.register({ email: 'root@example.com', password: PASSWORD, isAdmin: true });
  });
  afterAll(async () => s?.close());

  it('a password sign-in is enough, but it must still be recent', async () => {
    const l = await http(s.url, 'POST', '/v1/login', { json: { email: 'root@example.com', password: PASSWORD } });
    expect((await http(s.url, 'GET', '/v1/admin/events', { headers: bearer(l.body.access_token as string) })).status).toBe(200);
    clock.advance(6 * 60_000);
    const later = await refresh(s.url, l.body.refresh_token as string);
    const r = await http(s.url, 'GET', '/v1/admin/events', { headers: bearer(later.access_token) });
    expect([r.status, r.body.code]).toEqual([403, 'reauthentication_required']);
  });
});
