import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { signInWithSecondFactor } from '../support/mfa-sign-in.js';
import { http, startServer, type TestServer } from '../support/server.js';
import { signUp } from '../support/users.js';

const PASSWORD = 'correct horse battery staple';

describe('resource-server endpoints, OAuth revocation and introspection, admin, CLI', () => {
  let s: TestServer;
  let basic: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    s = await startServer({ env: { TESSERA_TRUST_PROXY: 'loopback' } });
    env = { TESSERA_DATABASE_URL: s.t.config.databaseUrl, TESSERA_DATA_DIR: s.dataDir };
    const created = await runCli(['clients', 'create', '--name', 'notes-api', '--json'], env);
    expect(created.code).toBe(0);
    const creds = JSON.parse(created.stdout) as Record<string, string>;
    expect(Object.keys(creds).sort()).toEqual(['client_id', 'client_secret']);
    basic = `Basic ${Buffer.from(`${creds.client_id}:${creds.client_secret}`).toString('base64')}`;
  }, 60_000);
  afterAll(async () => s?.close());

  const signIn = async (email: string, headers: Record<string, string> = {}) => {
    await signUp(s, email, PASSWORD);
    return (await http(s.url, 'POST', '/v1/login', { json: { email, password: PASSWORD }, headers })).body;
  };

  it('introspection needs client credentials and reflects revocation', async () => {
    const l = await signIn('intro@example.com');
    expect((await http(s.url, 'POST', '/oauth/introspect', { form: { token: l.access_token } })).status).toBe(401);
    const bad = await http(s.url, 'POST', '/oauth/introspect', { form: { token: l.access_token }, headers: { authorization: `Basic ${Buffer.from('rs_x:nope').toString('base64')}` } });
    expect(bad.status).toBe(401);
    expect(bad.body.code).toBe('invalid_client');
    const ok = await http(s.url, 'POST', '/oauth/introspect', { form: { token: l.access_token }, headers: { authorization: basic } });
    expect(ok.body).toMatchObject({ active: true, sub: expect.any(String), sid: l.session_id, token_type: 'Bearer' });
    const rt = await http(s.url, 'POST', '/oauth/introspect', { form: { token: l.refresh_token }, headers: { authorization: basic } });
    expect(rt.body).toMatchObject({ active: true, token_type: 'refresh_token', sid: l.session_id });
    expect((await http(s.url, 'POST', '/oauth/introspect', { form: { token: 'garbage' }, headers: { authorization: basic } })).body).toEqual({ active: false });

    // RFC 7009: 200 for a valid token, and 200 for garbage too (no oracle)
    expect((await http(s.url, 'POST', '/oauth/revoke', { form: { token: 'not-a-token' } })).status).toBe(200);
    expect((await http(s.url, 'POST', '/oauth/revoke', { form: { token: l.refresh_token, token_type_hint: 'refresh_token' } })).status).toBe(200);
    expect((await http(s.url, 'POST', '/oauth/introspect', { form: { token: l.access_token }, headers: { authorization: basic } })).body).toEqual({ active: false });
    expect((await http(s.url, 'GET', '/v1/me', { headers: { authorization: `Bearer ${l.access_token}` } })).status).toBe(401);
  });

  it('the revocation feed lists revoked sessions since a cursor and pushes them over SSE', async () => {
    expect((await http(s.url, 'GET', '/v1/revocations')).status).toBe(401);
    const head = await http(s.url, 'GET', '/v1/revocations?since=0', { headers: { authorization: basic } });
    expect(head.status).toBe(200);
    const cursor = head.body.cursor as number;

    const ac = new AbortController();
    const res = await fetch(`${s.url}/v1/revocations/stream?since=${cursor}`, { headers: { authorization: basic }, signal: ac.signal });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    let buffered = '';
    const l = await signIn('feed@example.com');
    const t0 = Date.now();
    await http(s.url, 'POST', '/v1/logout', { headers: { authorization: `Bearer ${l.access_token}` } });
    while (!buffered.includes(l.session_id)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += new TextDecoder().decode(value);
    }
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(buffered).toMatch(/event: revocation\nid: \d+\ndata: \{[^\n]*"sid":"/);
    ac.abort();

    const page = await http(s.url, 'GET', `/v1/revocations?since=${cursor}`, { headers: { authorization: basic } });
    expect(page.body.items).toContainEqual(expect.objectContaining({ sid: l.session_id, revoked_at: expect.any(String), until: expect.any(String) }));
    expect(page.body.cursor).toBeGreaterThan(cursor);
  });

  it('a resource server reports impossible travel and the session is revoked', async () => {
    const l = await signIn('reported@example.com', { 'x-forwarded-for': '81.2.69.160' });
    const r = await http(s.url, 'POST', '/v1/risk/reports', { json: { token: l.access_token, ip: '1.1.1.1', user_agent: 'curl/8' }, headers: { authorization: basic } });
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ status: 'received' });
    expect((await s.t.events.list({ type: 'impossible_travel' })).some((e) => e.sessionId === l.session_id)).toBe(true);
    expect((await http(s.url, 'GET', '/v1/me', { headers: { authorization: `Bearer ${l.access_token}` } })).status).toBe(401);
    expect((await http(s.url, 'POST', '/v1/risk/reports', { json: { token: l.access_token, ip: '1.1.1.1' } })).status).toBe(401);
  });

  it('admin endpoints need an --admin account made with the CLI', async () => {
    const made = await runCli(['users', 'create', '--email', 'root@example.com', '--password-stdin', '--admin'], env, `${PASSWORD}\n`);
    expect(made.code).toBe(0);
    // Admin calls need a recent sign-in with a second factor (TESSERA_ADMIN_REQUIRE_MFA, on by default).
    // `tessera users create` makes a verified account: it signs in and enrols a factor without a mail link
    const admin = (await signInWithSecondFactor(s.url, 'root@example.com', PASSWORD)).login;
    expect((await http(s.url, 'GET', '/v1/me', { headers: { authorization: `Bearer ${admin.access_token}` } })).body.email_verified).toBe(true);
    expect(JSON.parse(Buffer.from(admin.access_token.split('.')[1], 'base64url').toString()).roles).toEqual(['admin']);
    const user = await signIn('plain@example.com');
    const asUser = await http(s.url, 'GET', '/v1/admin/events', { headers: { authorization: `Bearer ${user.access_token}` } });
    expect(asUser.status).toBe(403);

    const A = { authorization: `Bearer ${admin.access_token}` };
    const uid = JSON.parse(Buffer.from(user.access_token.split('.')[1], 'base64url').toString()).sub as string;
    const ev = await http(s.url, 'GET', '/v1/admin/events?type=login_succeeded&user=plain@example.com', { headers: A });
    expect(ev.status).toBe(200);
    expect(ev.body.length).toBeGreaterThan(0);
    expect(ev.body.every((e: { type: string; user_id: string }) => e.type === 'login_succeeded' && e.user_id === uid)).toBe(true);
    expect((await http(s.url, 'POST', `/v1/admin/users/${uid}/revoke-sessions`, { headers: A })).status).toBe(204);
    expect((await http(s.url, 'GET', '/v1/me', { headers: { authorization: `Bearer ${user.access_token}` } })).status).toBe(401);
    expect((await http(s.url, 'POST', `/v1/admin/users/${uid}/require-password-reset`, { headers: A })).status).toBe(204);
    expect((await http(s.url, 'POST', '/v1/login', { json: { email: 'plain@example.com', password: PASSWORD } })).body.code).toBe('password_reset_required');
    expect((await http(s.url, 'POST', `/v1/admin/users/${uid}/unlock`, { headers: A })).status).toBe(204);
    expect((await http(s.url, 'POST', '/v1/admin/users/nope/unlock', { headers: A })).status).toBe(404);
  });

  it('the CLI lists keys and refuses bad input clearly', async () => {
    const list = await runCli(['keys', 'list'], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/current\s+EdDSA/);
    expect(list.stdout).toMatch(/next\s+EdDSA/);
    const weak = await runCli(['users', 'create', '--email', 'x@example.com', '--password-stdin'], env, 'short\n');
    expect(weak.code).toBe(1);
    expect(weak.stderr).toMatch(/weak_password/);
    const badCfg = await runCli(['migrate'], { ...env, PORT: 'eighty' });
    expect(badCfg.code).toBe(1);
    expect(badCfg.stderr).toMatch(/PORT/);
    expect((await runCli(['frobnicate'], env)).code).toBe(2);
  });
});
