/**
 * Acceptance: independent OpenID Connect client libraries (openid-client v6 as a confidential web client,
 * oauth4webapi as a public SPA client with DPoP) sign users in against a running Tessera through headless
 * Chromium on Tessera's real pages (password + TOTP), and the SDK, jose and a test RP check what they get.
 */
import * as jose from 'jose';
import * as oauth from 'oauth4webapi';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, isTesseraTokenError } from '@tessera/sdk';
import { PASSWORD, hasChromium, launch } from '../support/browser.js';
import { signInWithSecondFactor } from '../support/mfa-sign-in.js';
import { authorize, basicAuth, claimsOf, cookieSignIn, pkce, registerClient } from '../support/oidc.js';
import { signInThroughPages, startRelyingParty, type RelyingParty } from '../support/relying-party.js';
import { http, startServer, type TestServer } from '../support/server.js';
import { signUp } from '../support/users.js';

const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

describe.skipIf(!hasChromium)('OpenID Connect with independent clients and a real browser', () => {
  let s: TestServer;
  let base: string;
  let browser: Browser;
  let rp: RelyingParty;
  let web: { id: string; secret: string | undefined };
  let spa: { id: string; secret: string | undefined };
  let jwks: ReturnType<typeof jose.createRemoteJWKSet>;

  beforeAll(async () => {
    // grace 0: the replay of a rotated refresh token is theft at once (the grace window has its own tests)
    s = await startServer({ env: { TESSERA_REFRESH_GRACE: '0' } });
    base = s.t.config.issuer;
    rp = await startRelyingParty();
    browser = await launch();
    const uris = { redirectUris: [rp.callback], postLogoutRedirectUris: [rp.loggedOut], backchannelLogoutUri: rp.backchannel };
    web = await registerClient(s.t, { type: 'web', name: 'Web RP', firstParty: true, ...uris });
    spa = await registerClient(s.t, { type: 'spa', name: 'SPA RP', firstParty: true, ...uris });
    jwks = jose.createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await rp?.close();
    await s?.close();
  });

  const userWithTotp = async (email: string) => {
    await signUp(s, email, PASSWORD);
    return (await signInWithSecondFactor(base, email, PASSWORD)).totp;
  };

  /** The back-channel logout token for a session, validated as Back-Channel Logout 1.0 §2.6 says. */
  const logoutTokenFor = async (sid: string, clientId: string) => {
    await expect.poll(() => rp.logoutTokens.some((t) => claimsOf(t).sid === sid), { timeout: 10_000 }).toBe(true);
    const token = rp.logoutTokens.find((t) => claimsOf(t).sid === sid)!;
    const { payload, protectedHeader } = await jose.jwtVerify(token, jwks, { issuer: base, audience: clientId, typ: 'logout+jwt', algorithms: ['RS256'] });
    expect(protectedHeader.typ).toBe('logout+jwt');
    expect(payload.events).toEqual({ [BACKCHANNEL_EVENT]: {} });
    expect(payload).toMatchObject({ sid, sub: expect.any(String), jti: expect.any(String), iat: expect.any(Number) });
    expect(payload.nonce).toBeUndefined();
    return payload;
  };

  it('openid-client (confidential web client): discovery, sign-in with password + TOTP, code + PKCE, ID token, userinfo, refresh, replay, logout', async () => {
    const totp = await userWithTotp('web-rp@example.com');
    // strict discovery: the issuer in the document must be the one asked for
    const config = await oidc.discovery(new URL(base), web.id, undefined, oidc.ClientSecretBasic(web.secret), { execute: [oidc.allowInsecureRequests] });
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const authUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: rp.callback,
      scope: 'openid email offline_access',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const page = await signInThroughPages(browser, authUrl.href, 'web-rp@example.com', totp, rp.callback);
    const callback = new URL(page.url());
    expect(callback.searchParams.get('iss')).toBe(base);

    // the library checks iss (RFC 9207), state, PKCE, and the ID token's signature, iss, aud and nonce
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ iss: base, aud: web.id, nonce, email: 'web-rp@example.com', email_verified: expect.any(Boolean), sid: expect.any(String) });
    expect(claims.amr).toContain('mfa');
    const { payload } = await jose.jwtVerify(tokens.id_token!, jwks, { issuer: base, audience: web.id, algorithms: ['RS256'] });
    expect(payload.sub).toBe(claims.sub);

    expect(await oidc.fetchUserInfo(config, tokens.access_token, claims.sub)).toMatchObject({ sub: claims.sub, email: 'web-rp@example.com' });

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(await oidc.fetchUserInfo(config, refreshed.access_token, claims.sub)).toMatchObject({ sub: claims.sub });
    // the old refresh token again: theft, the session is revoked (and the RP told over the back channel)
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toThrow();
    await expect(oidc.fetchUserInfo(config, refreshed.access_token, claims.sub)).rejects.toThrow();
    await logoutTokenFor(claims.sid as string, web.id);

    // RP-initiated logout: the browser's Tessera session ends too, and the user lands on the RP with state
    const endUrl = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: rp.loggedOut, state: 'bye-1' });
    await page.goto(endUrl.href);
    await page.waitForURL((u) => u.href.startsWith(rp.loggedOut));
    expect(new URL(page.url()).searchParams.get('state')).toBe('bye-1');
    await page.goto(`${base}/account`);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await page.context().close();
  });

  it('oauth4webapi (public SPA client) with DPoP: the tokens are bound to the key, refresh rotates, replay revokes, logout', async () => {
    const totp = await userWithTotp('spa-rp@example.com');
    const issuer = new URL(base);
    const insecure = { [oauth.allowInsecureRequests]: true };
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }));
    const client: oauth.Client = { client_id: spa.id };
    const none = oauth.None();
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const authUrl = new URL(as.authorization_endpoint!);
    for (const [k, v] of Object.entries({ client_id: spa.id, redirect_uri: rp.callback, response_type: 'code', scope: 'openid email offline_access', state, nonce, code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' })) authUrl.searchParams.set(k, v);
    const page = await signInThroughPages(browser, authUrl.href, 'spa-rp@example.com', totp, rp.callback);

    const params = oauth.validateAuthResponse(as, client, new URL(page.url()), state); // iss checked here
    const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const res = await oauth.authorizationCodeGrantRequest(as, client, none, params, rp.callback, verifier, { DPoP, ...insecure });
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, res, { expectedNonce: nonce, requireIdToken: true });
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
    const claims = oauth.getValidatedIdTokenClaims(tokens)!;
    await jose.jwtVerify(tokens.id_token!, jwks, { issuer: base, audience: spa.id, algorithms: ['RS256'] });
    expect(claimsOf(tokens.access_token).cnf).toEqual({ jkt: expect.any(String) });

    const info = await oauth.processUserInfoResponse(as, client, claims.sub, await oauth.userInfoRequest(as, client, tokens.access_token, { DPoP, ...insecure }));
    expect(info).toMatchObject({ sub: claims.sub, email: 'spa-rp@example.com' });
    // the same token without its key is worthless
    expect((await http(base, 'GET', '/oauth/userinfo', { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(401);

    const refreshed = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, none, tokens.refresh_token!, { DPoP, ...insecure }));
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    // a refresh token stolen without the DPoP key is refused
    const keyless = await http(base, 'POST', '/v1/token', { form: { grant_type: 'refresh_token', refresh_token: refreshed.refresh_token!, client_id: spa.id } });
    expect(keyless.status).toBeGreaterThanOrEqual(400);
    const replay = await oauth.refreshTokenGrantRequest(as, client, none, tokens.refresh_token!, { DPoP, ...insecure });
    await expect(oauth.processRefreshTokenResponse(as, client, replay)).rejects.toThrow();
    await logoutTokenFor(claims.sid as string, spa.id);

    await page.goto(`${as.end_session_endpoint!}?${new URLSearchParams({ id_token_hint: tokens.id_token!, post_logout_redirect_uri: rp.loggedOut, state: 'bye-2' })}`);
    await page.waitForURL((u) => u.href.startsWith(rp.loggedOut));
    expect(new URL(page.url()).searchParams.get('state')).toBe('bye-2');
    await page.context().close();
  });

  it('an app not marked first-party: the consent page after sign-in, Allow, and back with a code', async () => {
    const totp = await userWithTotp('consent-rp@example.com');
    const third = await registerClient(s.t, { type: 'web', name: 'Third-Party Photos', redirectUris: [rp.callback] });
    const config = await oidc.discovery(new URL(base), third.id, undefined, oidc.ClientSecretPost(third.secret), { execute: [oidc.allowInsecureRequests] });
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const authUrl = oidc.buildAuthorizationUrl(config, { redirect_uri: rp.callback, scope: 'openid email', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state });
    const problems: string[] = [];
    const page = await signInThroughPages(browser, authUrl.href, 'consent-rp@example.com', totp, rp.callback, async (p) => {
      p.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
      await p.waitForURL(/\/consent\?/);
      expect(await p.textContent('[data-client-name]')).toBe('Third-Party Photos');
      await p.click('form[data-form="consent"] button[type="submit"]');
    });
    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state, idTokenExpected: true });
    expect(tokens.claims()?.email).toBe('consent-rp@example.com');
    // the apps page lists it, with the nav link
    await page.goto(`${base}/account/apps`);
    expect(await page.textContent('[data-apps]')).toContain('Third-Party Photos');
    await page.click('button[data-action="revoke-app"]');
    await expect.poll(() => page.isVisible('[data-app-id]')).toBe(false);
    await expect(oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub)).rejects.toThrow();
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('a code-flow session is on the sessions list; revoking it there stops the SDK within 1 s and logs the RP out over the back channel', async () => {
    await signUp(s, 'listed@example.com', PASSWORD);
    const cookie = await cookieSignIn(s.url, 'listed@example.com', PASSWORD);
    const p = pkce();
    const r = await authorize(s.url, { response_type: 'code', client_id: web.id, redirect_uri: rp.callback, scope: 'openid', state: 's', code_challenge: p.challenge, code_challenge_method: 'S256' }, cookie);
    const code = r.location!.searchParams.get('code')!;
    const t = await http(s.url, 'POST', '/v1/token', { form: { grant_type: 'authorization_code', code, code_verifier: p.verifier, redirect_uri: rp.callback }, headers: { authorization: basicAuth(web.id, web.secret!) } });
    expect(t.status).toBe(200);
    const sid = claimsOf(t.body.access_token as string).sid as string;

    const rs = await registerClient(s.t, { type: 'resource', name: 'notes-api' });
    const verifier = createVerifier({ issuer: base, clientId: rs.id, clientSecret: rs.secret!, onError: () => undefined });
    try {
      await verifier.ready();
      expect((await verifier.verify(t.body.access_token as string)).sid).toBe(sid);
      const user = (await http(s.url, 'POST', '/v1/login', { json: { email: 'listed@example.com', password: PASSWORD } })).body;
      const auth = { authorization: `Bearer ${user.access_token as string}` };
      const list = (await http(s.url, 'GET', '/v1/sessions', { headers: auth })).body as Array<{ id: string }>;
      expect(list.map((x) => x.id)).toContain(sid);
      expect((await http(s.url, 'DELETE', `/v1/sessions/${sid}`, { headers: auth })).status).toBe(204);
      const t0 = Date.now();
      await expect
        .poll(async () => verifier.verify(t.body.access_token as string).then(() => 'accepted', (err: unknown) => (isTesseraTokenError(err) ? err.code : String(err))), { interval: 50, timeout: 1000 })
        .toBe('token_revoked');
      expect(Date.now() - t0).toBeLessThan(1000);
    } finally {
      await verifier.close();
    }
    await logoutTokenFor(sid, web.id);
  });

  it('client_credentials: a service token the SDK accepts only with the audience it was issued for', async () => {
    const svc = await registerClient(s.t, { type: 'service', name: 'reporter', scope: 'reports.read' });
    const api = await registerClient(s.t, { type: 'resource', name: 'reports-api', audience: 'https://reports.example/api' });
    const t = await http(s.url, 'POST', '/v1/token', { form: { grant_type: 'client_credentials', scope: 'reports.read', resource: 'https://reports.example/api' }, headers: { authorization: basicAuth(svc.id, svc.secret!) } });
    expect(t.status, JSON.stringify(t.body)).toBe(200);
    expect(claimsOf(t.body.access_token as string)).toMatchObject({ sub: svc.id, aud: 'https://reports.example/api' });
    const unknown = await http(s.url, 'POST', '/v1/token', { form: { grant_type: 'client_credentials', resource: 'https://nowhere.example/' }, headers: { authorization: basicAuth(svc.id, svc.secret!) } });
    expect(unknown.body.error).toBe('invalid_target');

    const right = createVerifier({ issuer: base, audience: 'https://reports.example/api', clientId: api.id, clientSecret: api.secret!, onError: () => undefined });
    const wrong = createVerifier({ issuer: base, clientId: api.id, clientSecret: api.secret!, onError: () => undefined });
    try {
      await Promise.all([right.ready(), wrong.ready()]);
      expect((await right.verify(t.body.access_token as string)).sub).toBe(svc.id);
      await expect(wrong.verify(t.body.access_token as string)).rejects.toSatisfy(isTesseraTokenError);
    } finally {
      await right.close();
      await wrong.close();
    }
  });
});
