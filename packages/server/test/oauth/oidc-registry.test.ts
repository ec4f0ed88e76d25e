/** Clients through the CLI and the admin API; the user's apps; RP-initiated logout; prompt=login and POST authorize. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { signInWithSecondFactor } from '../support/mfa-sign-in.js';
import { authorize, basicAuth, cookieSignIn, pkce, registerClient } from '../support/oidc.js';
import { http, startServer, type TestServer } from '../support/server.js';
import { signUp } from '../support/users.js';

const PASSWORD = 'correct horse battery staple';
const CB = 'http://127.0.0.1:8080/cb';

describe('OpenID Connect clients, apps and logout', () => {
  let s: TestServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    s = await startServer();
    env = { TESSERA_DATABASE_URL: s.t.config.databaseUrl, TESSERA_DATA_DIR: s.dataDir };
  }, 60_000);
  afterAll(async () => s?.close());

  it('tessera clients create: exactly {client_id, client_secret?}, no secret for public clients; list and delete', async () => {
    const spa = await runCli(['clients', 'create', '--name', 'spa', '--type', 'spa', '--redirect-uri', CB, '--redirect-uri', 'http://localhost:8080/cb', '--first-party', '--json'], env);
    expect(spa.code, spa.stderr).toBe(0);
    const spaOut = JSON.parse(spa.stdout) as Record<string, string>;
    expect(Object.keys(spaOut)).toEqual(['client_id']);
    const web = await runCli(['clients', 'create', '--name', 'web', '--type', 'web', '--redirect-uri', CB, '--post-logout-redirect-uri', 'http://127.0.0.1:8080/bye', '--backchannel-logout-uri', 'http://127.0.0.1:8080/bc', '--scope', 'openid email', '--json'], env);
    expect(Object.keys(JSON.parse(web.stdout) as object).sort()).toEqual(['client_id', 'client_secret']);
    const rs = await runCli(['clients', 'create', '--name', 'api', '--type', 'resource', '--audience', 'https://api.example/', '--json'], env);
    const rsOut = JSON.parse(rs.stdout) as Record<string, string>;
    // a resource server still authenticates at the feed as in v1
    expect((await http(s.url, 'GET', '/v1/revocations?since=0', { headers: { authorization: basicAuth(rsOut.client_id, rsOut.client_secret) } })).status).toBe(200);
    const bad = await runCli(['clients', 'create', '--name', 'x', '--type', 'web', '--json'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('redirect-uri');

    const listed = JSON.parse((await runCli(['clients', 'list', '--json'], env)).stdout) as Array<Record<string, unknown>>;
    expect(listed).toContainEqual(expect.objectContaining({ client_id: spaOut.client_id, type: 'spa', redirect_uris: [CB, 'http://localhost:8080/cb'], first_party: true }));
    expect(listed).toContainEqual(expect.objectContaining({ client_id: rsOut.client_id, type: 'resource', audience: 'https://api.example/' }));
    expect((await runCli(['clients', 'delete', spaOut.client_id], env)).code).toBe(0);
    expect((await s.t.oauth.getClient(spaOut.client_id))).toBeUndefined();
  }, 60_000);

  it('the admin API registers, lists and deletes clients behind the admin guard', async () => {
    await s.t.accounts.register({ email: 'root@example.com', password: PASSWORD, isAdmin: true });
    const admin = await signInWithSecondFactor(s.url, 'root@example.com', PASSWORD);
    const auth = { authorization: `Bearer ${admin.login.access_token}` };
    await signUp(s, 'plain@example.com', PASSWORD);
    const plain = (await http(s.url, 'POST', '/v1/login', { json: { email: 'plain@example.com', password: PASSWORD } })).body;
    expect((await http(s.url, 'GET', '/v1/admin/clients', { headers: { authorization: `Bearer ${plain.access_token as string}` } })).status).toBe(403);

    const created = await http(s.url, 'POST', '/v1/admin/clients', { json: { name: 'native app', type: 'native', redirect_uris: ['com.example.app:/cb'] }, headers: auth });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(Object.keys(created.body as object)).toEqual(['client_id']);
    const svc = await http(s.url, 'POST', '/v1/admin/clients', { json: { name: 'svc', type: 'service' }, headers: auth });
    expect(svc.body.client_secret).toEqual(expect.any(String));
    const refused = await http(s.url, 'POST', '/v1/admin/clients', { json: { name: 'bad', type: 'web', redirect_uris: ['javascript:alert(1)'] }, headers: auth });
    expect([refused.status, refused.body.code]).toEqual([400, 'invalid_request']);
    const list = (await http(s.url, 'GET', '/v1/admin/clients', { headers: auth })).body as Array<Record<string, unknown>>;
    expect(list.map((c) => c.client_id)).toEqual(expect.arrayContaining([created.body.client_id, svc.body.client_id]));
    for (const c of list) expect(c.client_secret).toBeUndefined();
    expect((await http(s.url, 'DELETE', `/v1/admin/clients/${created.body.client_id as string}`, { headers: auth })).status).toBe(204);
    expect((await http(s.url, 'DELETE', `/v1/admin/clients/${created.body.client_id as string}`, { headers: auth })).status).toBe(404);
  });

  it('the apps page lists an approved app; removing it forgets the consent and signs the app out', async () => {
    const app = await registerClient(s.t, { type: 'web', name: 'Photo Printer', redirectUris: [CB] });
    await signUp(s, 'apps@example.com', PASSWORD);
    const cookie = await cookieSignIn(s.url, 'apps@example.com', PASSWORD);
    const csrf = decodeURIComponent(/tessera_csrf=([^;]+)/.exec(cookie)![1]);
    const p = pkce();
    const r = await authorize(s.url, { response_type: 'code', client_id: app.id, redirect_uri: CB, scope: 'openid email', code_challenge: p.challenge, code_challenge_method: 'S256' }, cookie);
    const ok = await http(s.url, 'POST', '/consent', { json: { query: r.location!.search.slice(1), decision: 'allow' }, headers: { cookie, 'x-csrf-token': csrf } });
    const code = new URL(ok.body.redirect_to as string).searchParams.get('code')!;
    const t = await http(s.url, 'POST', '/v1/token', { form: { grant_type: 'authorization_code', code, code_verifier: p.verifier, redirect_uri: CB }, headers: { authorization: basicAuth(app.id, app.secret!) } });
    expect(t.status).toBe(200);

    const page = await fetch(`${s.url}/account/apps`, { headers: { cookie } });
    const htmlText = await page.text();
    expect(htmlText).toContain('Photo Printer');
    expect(htmlText).toContain('href="/account/apps"');
    expect((await http(s.url, 'DELETE', `/v1/me/apps/${app.id}`, { headers: { cookie, 'x-csrf-token': csrf } })).status).toBe(204);
    expect((await http(s.url, 'GET', '/oauth/userinfo', { headers: { authorization: `Bearer ${t.body.access_token as string}` } })).status).toBe(401);
    expect((await http(s.url, 'GET', '/v1/me/apps', { headers: { cookie } })).body).toEqual([]);
    // denied: the app learns access_denied, with iss
    const again = await authorize(s.url, { response_type: 'code', client_id: app.id, redirect_uri: CB, scope: 'openid', state: 'z', code_challenge: p.challenge, code_challenge_method: 'S256' }, cookie);
    expect(again.location?.pathname).toBe('/consent');
    const no = await http(s.url, 'POST', '/consent', { json: { query: again.location!.search.slice(1), decision: 'deny' }, headers: { cookie, 'x-csrf-token': csrf } });
    expect(Object.fromEntries(new URL(no.body.redirect_to as string).searchParams)).toMatchObject({ error: 'access_denied', state: 'z', iss: s.t.config.issuer });
  });

  it('prompt=login and max_age send a signed-in user through sign-in again; POST /oauth/authorize works like GET', async () => {
    const app = await registerClient(s.t, { type: 'web', redirectUris: [CB], firstParty: true });
    await signUp(s, 'prompt@example.com', PASSWORD);
    const cookie = await cookieSignIn(s.url, 'prompt@example.com', PASSWORD);
    const p = pkce();
    const base = { response_type: 'code', client_id: app.id, redirect_uri: CB, scope: 'openid', code_challenge: p.challenge, code_challenge_method: 'S256' };
    for (const extra of [{ prompt: 'login' }, { max_age: '0' }] as Array<Record<string, string>>) {
      await new Promise((res) => setTimeout(res, 5));
      const r = await authorize(s.url, { ...base, ...extra }, cookie);
      expect(r.location?.pathname, JSON.stringify(extra)).toBe('/sign-in');
    }
    const posted = await fetch(`${s.url}/oauth/authorize`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(base).toString() });
    expect(posted.status).toBe(302);
    // a cross-site form POST carries no CSRF header: the cookie does not count, the user signs in first
    expect(new URL(posted.headers.get('location')!, s.url).pathname).toBe('/sign-in');
  });

  it('RP-initiated logout: an unregistered post_logout_redirect_uri is an error page; without a hint the user is asked', async () => {
    const app = await registerClient(s.t, { type: 'web', redirectUris: [CB], postLogoutRedirectUris: ['http://127.0.0.1:8080/bye'], firstParty: true });
    await signUp(s, 'bye@example.com', PASSWORD);
    const cookie = await cookieSignIn(s.url, 'bye@example.com', PASSWORD);
    const p = pkce();
    const r = await authorize(s.url, { response_type: 'code', client_id: app.id, redirect_uri: CB, scope: 'openid', code_challenge: p.challenge, code_challenge_method: 'S256' }, cookie);
    const t = await http(s.url, 'POST', '/v1/token', { form: { grant_type: 'authorization_code', code: r.location!.searchParams.get('code')!, code_verifier: p.verifier, redirect_uri: CB }, headers: { authorization: basicAuth(app.id, app.secret!) } });
    const idToken = t.body.id_token as string;
    const logout = (q: Record<string, string>) => fetch(`${s.url}/oauth/logout?${new URLSearchParams(q)}`, { redirect: 'manual', headers: { cookie } });

    const evil = await logout({ id_token_hint: idToken, post_logout_redirect_uri: 'https://evil.example/' });
    expect([evil.status, evil.headers.get('location')]).toEqual([400, null]);
    const forged = await logout({ id_token_hint: `${idToken.slice(0, -4)}AAAA`, post_logout_redirect_uri: 'http://127.0.0.1:8080/bye' });
    expect([forged.status, forged.headers.get('location')]).toEqual([400, null]);
    const noHint = await logout({});
    expect(noHint.status).toBe(200);
    expect(await noHint.text()).toContain('data-action="sign-out"');
    expect((await http(s.url, 'GET', '/v1/me/apps', { headers: { cookie } })).status).toBe(200); // still signed in

    const done = await logout({ id_token_hint: idToken, post_logout_redirect_uri: 'http://127.0.0.1:8080/bye', state: 'st' });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('http://127.0.0.1:8080/bye?state=st');
    expect((await http(s.url, 'GET', '/oauth/userinfo', { headers: { authorization: `Bearer ${t.body.access_token as string}` } })).status).toBe(401);
    expect((await http(s.url, 'GET', '/v1/me/apps', { headers: { cookie } })).status).toBe(401);
  });

  it('back-channel logout is retried with backoff until the RP answers 200', async () => {
    const seen: number[] = [];
    const rp = createServer((req, res) => {
      req.resume();
      seen.push(Date.now());
      res.writeHead(seen.length === 1 ? 503 : 200).end();
    });
    await new Promise<void>((resolve) => rp.listen(0, '127.0.0.1', resolve));
    try {
      const uri = `http://127.0.0.1:${(rp.address() as AddressInfo).port}/bc`;
      const app = await registerClient(s.t, { type: 'web', redirectUris: [CB], backchannelLogoutUri: uri, firstParty: true });
      await signUp(s, 'retry@example.com', PASSWORD);
      const cookie = await cookieSignIn(s.url, 'retry@example.com', PASSWORD);
      const p = pkce();
      const r = await authorize(s.url, { response_type: 'code', client_id: app.id, redirect_uri: CB, scope: 'openid', code_challenge: p.challenge, code_challenge_method: 'S256' }, cookie);
      const t = await http(s.url, 'POST', '/v1/token', { form: { grant_type: 'authorization_code', code: r.location!.searchParams.get('code')!, code_verifier: p.verifier, redirect_uri: CB }, headers: { authorization: basicAuth(app.id, app.secret!) } });
      const csrf = decodeURIComponent(/tessera_csrf=([^;]+)/.exec(cookie)![1]);
      // the user signs out everywhere: a subject-wide revocation reaches the app's session too
      expect((await http(s.url, 'DELETE', '/v1/sessions', { headers: { cookie, 'x-csrf-token': csrf } })).status).toBe(204);
      expect(t.status).toBe(200);
      await expect.poll(() => seen.length, { timeout: 10_000 }).toBe(2);
      expect(seen[1] - seen[0]).toBeGreaterThanOrEqual(900); // the first retry waits about a second
      await new Promise((res) => setTimeout(res, 2500));
      expect(seen.length).toBe(2); // delivered: not sent again
    } finally {
      await new Promise<void>((resolve) => rp.close(() => resolve()));
    }
  }, 30_000);
});
