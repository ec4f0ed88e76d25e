/**
 * Attacks on the OpenID Connect provider at the HTTP edge: each test fails if its rule is removed.
 * Codes are obtained the way a browser would (a cookie session at /oauth/authorize), without a browser.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, basicAuth, claimsOf, cookieSignIn, pkce, registerClient } from '../support/oidc.js';
import { http, startServer, type TestServer } from '../support/server.js';
import { signUp } from '../support/users.js';

const PASSWORD = 'correct horse battery staple';
const CB = 'https://rp.example/callback';

describe('OpenID Connect provider: attacks at the HTTP edge', () => {
  let s: TestServer;
  let cookie: string;
  let web: { id: string; secret: string | undefined };
  let other: { id: string; secret: string | undefined };
  let thirdParty: { id: string; secret: string | undefined };
  let spa: { id: string; secret: string | undefined };
  let service: { id: string; secret: string | undefined };

  beforeAll(async () => {
    s = await startServer();
    await signUp(s, 'oidc-attacks@example.com', PASSWORD);
    cookie = await cookieSignIn(s.url, 'oidc-attacks@example.com', PASSWORD);
    web = await registerClient(s.t, { type: 'web', redirectUris: [CB], firstParty: true, scope: 'openid email offline_access' });
    other = await registerClient(s.t, { type: 'web', redirectUris: ['https://other.example/cb'], firstParty: true });
    thirdParty = await registerClient(s.t, { type: 'web', name: 'Third Party', redirectUris: [CB] });
    spa = await registerClient(s.t, { type: 'spa', redirectUris: ['http://127.0.0.1:5173/cb'], firstParty: true });
    service = await registerClient(s.t, { type: 'service', scope: 'reports.read' });
  }, 60_000);
  afterAll(async () => s?.close());

  const request = (clientId: string, extra: Record<string, string> = {}) => {
    const p = pkce();
    return { p, params: { response_type: 'code', client_id: clientId, redirect_uri: CB, scope: 'openid email offline_access', state: 'st-1', nonce: 'n-1', code_challenge: p.challenge, code_challenge_method: 'S256', ...extra } };
  };
  const codeFor = async (clientId = web.id, extra: Record<string, string> = {}) => {
    const { p, params } = request(clientId, extra);
    const r = await authorize(s.url, params, cookie);
    expect(r.status, r.body).toBe(302);
    expect(r.location?.origin + r.location!.pathname).toBe(params.redirect_uri);
    expect(r.location?.searchParams.get('iss')).toBe(s.t.config.issuer);
    expect(r.location?.searchParams.get('state')).toBe('st-1');
    return { code: r.location!.searchParams.get('code')!, verifier: p.verifier };
  };
  const exchange = (form: Record<string, string>, auth: string | undefined = basicAuth(web.id, web.secret!)) =>
    http(s.url, 'POST', '/v1/token', { form: { grant_type: 'authorization_code', redirect_uri: CB, ...form }, headers: auth ? { authorization: auth } : {} });

  it('a redirect URI that is not registered exactly gets an error page, never a redirect', async () => {
    for (const uri of ['https://evil.example/callback', 'https://rp.example/', 'https://rp.example/callback/more', 'https://RP.example/Callback', `${CB}?x=1`, `${CB}#f`, 'https://rp.example/callbac']) {
      const r = await authorize(s.url, request(web.id, { redirect_uri: uri }).params, cookie);
      expect([r.status, r.location], uri).toEqual([400, undefined]);
      expect(r.headers.get('content-type')).toMatch(/text\/html/);
      expect(r.body).not.toContain('code=');
    }
    const unknown = await authorize(s.url, request('app_nope').params, cookie);
    expect([unknown.status, unknown.location]).toEqual([400, undefined]);
  });

  it('PKCE S256 is required: a missing challenge or plain is refused with iss; a missing or wrong verifier is invalid_grant', async () => {
    for (const extra of [{ code_challenge: '' }, { code_challenge_method: 'plain' }] as Array<Record<string, string>>) {
      const r = await authorize(s.url, request(web.id, extra).params, cookie);
      expect(r.status).toBe(302);
      expect(r.location?.searchParams.get('error')).toBe('invalid_request');
      expect(r.location?.searchParams.get('iss')).toBe(s.t.config.issuer);
      expect(r.location?.searchParams.get('code')).toBeNull();
    }
    const a = await codeFor();
    const none = await exchange({ code: a.code });
    expect([none.status, none.body.error]).toEqual([400, 'invalid_grant']);
    expect(none.headers.get('content-type')).toMatch(/^application\/json/);
    // refused by the schema (a repeated parameter): still the OAuth error shape, as application/json
    const repeated = await fetch(`${s.url}/v1/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(web.id, web.secret!) }, body: `grant_type=authorization_code&code=${a.code}&code=${a.code}` });
    expect([repeated.status, repeated.headers.get('content-type')?.split(';')[0], ((await repeated.json()) as { error: string }).error]).toEqual([400, 'application/json', 'invalid_request']);
    const b = await codeFor();
    const wrong = await exchange({ code: b.code, code_verifier: pkce().verifier });
    expect([wrong.status, wrong.body.error]).toEqual([400, 'invalid_grant']);
  });

  it('a code used twice: the second exchange is refused and what the first issued is revoked', async () => {
    const c = await codeFor();
    const first = await exchange({ code: c.code, code_verifier: c.verifier });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toMatchObject({ token_type: 'Bearer', id_token: expect.any(String), refresh_token: expect.any(String), scope: 'openid email offline_access' });
    const ui = { authorization: `Bearer ${first.body.access_token as string}` };
    expect((await http(s.url, 'GET', '/oauth/userinfo', { headers: ui })).status).toBe(200);
    const second = await exchange({ code: c.code, code_verifier: c.verifier });
    expect([second.status, second.body.error]).toEqual([400, 'invalid_grant']);
    expect((await http(s.url, 'GET', '/oauth/userinfo', { headers: ui })).status).toBe(401);
    const refresh = await http(s.url, 'POST', '/v1/token', { form: { grant_type: 'refresh_token', refresh_token: first.body.refresh_token as string }, headers: { authorization: basicAuth(web.id, web.secret!) } });
    expect(refresh.status).toBeGreaterThanOrEqual(400);
    expect(refresh.body.error).toBe('invalid_grant');
  });

  it('a code exchanged by another client or with another redirect URI is refused', async () => {
    const c = await codeFor();
    const stolen = await exchange({ code: c.code, code_verifier: c.verifier }, basicAuth(other.id, other.secret!));
    expect([stolen.status, stolen.body.error]).toEqual([400, 'invalid_grant']);
    const d = await codeFor();
    const elsewhere = await exchange({ code: d.code, code_verifier: d.verifier, redirect_uri: 'https://rp.example/other' });
    expect([elsewhere.status, elsewhere.body.error]).toEqual([400, 'invalid_grant']);
    const badSecret = await exchange({ code: d.code, code_verifier: d.verifier }, basicAuth(web.id, 'wrong'));
    expect([badSecret.status, badSecret.body.error]).toEqual([401, 'invalid_client']);
  });

  it('prompt=none while signed out answers login_required at the redirect URI, with iss and state', async () => {
    const r = await authorize(s.url, request(web.id, { prompt: 'none' }).params);
    expect(r.status).toBe(302);
    expect(r.location?.origin + r.location!.pathname).toBe(CB);
    expect(Object.fromEntries(r.location!.searchParams)).toMatchObject({ error: 'login_required', state: 'st-1', iss: s.t.config.issuer });
    const signedOut = await authorize(s.url, request(web.id).params);
    expect(signedOut.status).toBe(302);
    expect(signedOut.location?.pathname).toBe('/sign-in');
    expect(signedOut.location?.searchParams.get('next')).toMatch(/^\/oauth\/authorize\?/);
  });

  it('a client not marked first-party goes through a consent page that cannot be framed; consent is remembered', async () => {
    const { p, params } = request(thirdParty.id, { scope: 'openid email' });
    const r = await authorize(s.url, params, cookie);
    expect(r.status).toBe(302);
    expect(r.location?.pathname).toBe('/consent');
    const page = await fetch(r.location!, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(await page.text()).toContain('Third Party');
    const none = await authorize(s.url, { ...params, prompt: 'none' }, cookie);
    expect(none.location?.searchParams.get('error')).toBe('consent_required');
    // the consent answer needs the cookie session with its CSRF header; a bearer token can never consent
    const csrf = /tessera_csrf=([^;]+)/.exec(cookie)![1];
    const noCsrf = await http(s.url, 'POST', '/consent', { json: { query: r.location!.search.slice(1), decision: 'allow' }, headers: { cookie } });
    expect(noCsrf.status).toBe(403);
    const ok = await http(s.url, 'POST', '/consent', { json: { query: r.location!.search.slice(1), decision: 'allow' }, headers: { cookie, 'x-csrf-token': decodeURIComponent(csrf) } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    const back = new URL(ok.body.redirect_to as string);
    expect(back.searchParams.get('iss')).toBe(s.t.config.issuer);
    const tokens = await http(s.url, 'POST', '/v1/token', { form: { grant_type: 'authorization_code', code: back.searchParams.get('code')!, code_verifier: p.verifier, redirect_uri: CB }, headers: { authorization: basicAuth(thirdParty.id, thirdParty.secret!) } });
    expect(tokens.status).toBe(200);
    expect(tokens.body.refresh_token).toBeUndefined(); // no offline_access asked
    // remembered: the same scopes go straight back with a code
    const again = await authorize(s.url, request(thirdParty.id, { scope: 'openid email' }).params, cookie);
    expect(again.location?.searchParams.get('code')).toEqual(expect.any(String));
    const apps = await http(s.url, 'GET', '/v1/me/apps', { headers: { cookie } });
    expect(apps.body).toContainEqual(expect.objectContaining({ client_id: thirdParty.id, name: 'Third Party', scope: ['openid', 'email'] }));
  });

  it('RFC 8707: a registered resource becomes the access token audience; an unknown one is invalid_target', async () => {
    await registerClient(s.t, { type: 'resource', name: 'photos', audience: 'https://photos.example/api' });
    const c = await codeFor(web.id, { resource: 'https://photos.example/api' });
    const t = await exchange({ code: c.code, code_verifier: c.verifier });
    expect(claimsOf(t.body.access_token as string).aud).toBe('https://photos.example/api');
    // a token for another API is not one for Tessera's own
    expect((await http(s.url, 'GET', '/oauth/userinfo', { headers: { authorization: `Bearer ${t.body.access_token as string}` } })).status).toBe(401);
    const r = await authorize(s.url, request(web.id, { resource: 'https://unknown.example/' }).params, cookie);
    expect(Object.fromEntries(r.location!.searchParams)).toMatchObject({ error: 'invalid_target', iss: s.t.config.issuer });
  });

  it('a scope the client may not have is not granted', async () => {
    const c = await codeFor(web.id, { scope: 'openid email profile admin' });
    const t = await exchange({ code: c.code, code_verifier: c.verifier });
    expect(t.status).toBe(200);
    expect(t.body.scope).toBe('openid email');
    expect(claimsOf(t.body.access_token as string).scope).toBe('openid email');
  });

  it('client_credentials is for service clients only; their tokens never pass as a user on first-party routes', async () => {
    const pub = await http(s.url, 'POST', '/v1/token', { form: { grant_type: 'client_credentials', client_id: spa.id } });
    expect([pub.status, pub.body.error]).toEqual([400, 'unauthorized_client']);
    const webCc = await http(s.url, 'POST', '/v1/token', { form: { grant_type: 'client_credentials' }, headers: { authorization: basicAuth(web.id, web.secret!) } });
    expect(webCc.body.error).toBe('unauthorized_client');
    const svc = await http(s.url, 'POST', '/v1/token', { form: { grant_type: 'client_credentials', scope: 'reports.read' }, headers: { authorization: basicAuth(service.id, service.secret!) } });
    expect(svc.status, JSON.stringify(svc.body)).toBe(200);
    expect(svc.body.refresh_token).toBeUndefined();
    expect(claimsOf(svc.body.access_token as string)).toMatchObject({ sub: service.id, client_id: service.id, scope: 'reports.read' });
    const me = await http(s.url, 'GET', '/v1/me', { headers: { authorization: `Bearer ${svc.body.access_token as string}` } });
    expect(me.status).toBe(401);
  });

  it("an app's access token is for userinfo, not for the user's own account API", async () => {
    const c = await codeFor();
    const t = await exchange({ code: c.code, code_verifier: c.verifier });
    const bearer = { authorization: `Bearer ${t.body.access_token as string}` };
    expect((await http(s.url, 'GET', '/oauth/userinfo', { headers: bearer })).body).toMatchObject({ sub: expect.any(String), email: 'oidc-attacks@example.com' });
    expect((await http(s.url, 'GET', '/v1/me', { headers: bearer })).status).toBe(401);
    expect((await http(s.url, 'DELETE', '/v1/sessions', { headers: bearer })).status).toBe(401);
  });

  it('refresh of an app session: only with offline_access, only by its client, rotated with reuse detection', async () => {
    const c = await codeFor();
    const t = await exchange({ code: c.code, code_verifier: c.verifier });
    const rt = t.body.refresh_token as string;
    const byOther = await http(s.url, 'POST', '/v1/token', { form: { grant_type: 'refresh_token', refresh_token: rt }, headers: { authorization: basicAuth(other.id, other.secret!) } });
    expect(byOther.body.error).toBe('invalid_grant');
    const noAuth = await http(s.url, 'POST', '/v1/token', { form: { grant_type: 'refresh_token', refresh_token: rt } });
    expect(noAuth.body.error).toBe('invalid_client');
    const next = await http(s.url, 'POST', '/v1/token', { form: { grant_type: 'refresh_token', refresh_token: rt }, headers: { authorization: basicAuth(web.id, web.secret!) } });
    expect(next.status, JSON.stringify(next.body)).toBe(200);
    expect(next.body.refresh_token).not.toBe(rt);
    expect(claimsOf(next.body.access_token as string).client_id).toBe(web.id);

    const d = await codeFor(web.id, { scope: 'openid email' });
    const short = await exchange({ code: d.code, code_verifier: d.verifier });
    expect(short.body.refresh_token).toBeUndefined();
  });

  it('discovery lists the provider, and the JWKS holds the RS256 ID-token key beside the access-token key', async () => {
    const d = (await http(s.url, 'GET', '/.well-known/openid-configuration')).body;
    const iss = s.t.config.issuer;
    expect(d).toMatchObject({
      issuer: iss,
      authorization_endpoint: `${iss}/oauth/authorize`,
      token_endpoint: `${iss}/v1/token`,
      userinfo_endpoint: `${iss}/oauth/userinfo`,
      end_session_endpoint: `${iss}/oauth/logout`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      subject_types_supported: ['public'],
      authorization_response_iss_parameter_supported: true,
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
    });
    expect(d.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials']));
    expect(d.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'email', 'offline_access']));
    expect(d.id_token_signing_alg_values_supported).toContain('RS256');
    expect(d.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'none']));
    expect((await http(s.url, 'GET', '/.well-known/oauth-authorization-server')).body).toEqual(d);
    const jwks = (await http(s.url, 'GET', '/.well-known/jwks.json')).body as { keys: Array<Record<string, string>> };
    expect(jwks.keys.filter((k) => k.alg === 'RS256').length).toBeGreaterThanOrEqual(2); // current and next
    expect(jwks.keys.some((k) => k.alg === s.t.config.TESSERA_SIGNING_ALG)).toBe(true);
  });

  it('CORS: discovery for any origin; token and userinfo for the origins of public clients only, never with cookies', async () => {
    const preflight = (path: string, origin: string) =>
      fetch(`${s.url}${path}`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'dpop, content-type' } });
    const app = await preflight('/v1/token', 'http://127.0.0.1:5173');
    expect(app.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:5173');
    expect(app.headers.get('access-control-allow-credentials')).toBeNull();
    for (const path of ['/v1/token', '/v1/me', '/consent']) {
      expect((await preflight(path, 'https://evil.example')).headers.get('access-control-allow-origin'), path).toBeNull();
    }
    expect((await preflight('/v1/me', 'http://127.0.0.1:5173')).headers.get('access-control-allow-origin')).toBeNull();
    const d = await fetch(`${s.url}/.well-known/openid-configuration`, { headers: { origin: 'https://anyone.example' } });
    expect(d.headers.get('access-control-allow-origin')).toBe('*');
  });
});
