/**
 * Passkeys in a real browser: headless Chromium with a CDP virtual authenticator (CTAP2, internal, resident
 * keys, user verification), driving navigator.credentials against the server's own endpoints. The page
 * lives on the issuer's origin (http://localhost:PORT, a secure context), so rpID and origin are the real ones.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type CDPSession, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUIRE_SERVICES } from '../support/services.js';
import { http, startServer, type Res, type TestServer } from '../support/server.js';
import { signUp } from '../support/users.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && REQUIRE_SERVICES) throw new Error(`${CHROMIUM} is required (TESSERA_TEST_REQUIRE_SERVICES=1) but missing`);
if (!hasChromium) console.warn(`skipping WebAuthn browser tests: ${CHROMIUM} missing (apt-get install -y chromium)`);

const PASSWORD = 'correct horse battery staple';

/** In-page helpers (plain JS): base64url ↔ ArrayBuffer, the ceremonies, and JSON calls to the API. */
const HELPERS = `
window.tw = (() => {
  const enc = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  const dec = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0)).buffer;
  const api = async (path, body, token) => {
    const headers = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = 'Bearer ' + token;
    const r = await fetch(path, { method: 'POST', headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, body: await r.json().catch(() => null) };
  };
  const common = (cred) => ({ id: cred.id, rawId: enc(cred.rawId), type: cred.type, authenticatorAttachment: cred.authenticatorAttachment ?? undefined, clientExtensionResults: cred.getClientExtensionResults() });
  return {
    login: (email, password) => api('/v1/login', { email, password }),
    async register(token, name) {
      const o = await api('/v1/mfa/webauthn/options', undefined, token);
      if (o.status !== 200) return o;
      const opts = o.body;
      const cred = await navigator.credentials.create({ publicKey: {
        ...opts,
        challenge: dec(opts.challenge),
        user: { ...opts.user, id: dec(opts.user.id) },
        excludeCredentials: (opts.excludeCredentials || []).map((c) => ({ ...c, id: dec(c.id) })),
      } });
      const response = { ...common(cred), response: {
        clientDataJSON: enc(cred.response.clientDataJSON),
        attestationObject: enc(cred.response.attestationObject),
        transports: cred.response.getTransports ? cred.response.getTransports() : [],
      } };
      return api('/v1/mfa/webauthn', { response, name }, token);
    },
    async authenticate(mfaToken) {
      const o = await api('/v1/login/webauthn/options', mfaToken ? { mfa_token: mfaToken } : {});
      if (o.status !== 200) return o;
      const opts = o.body;
      const cred = await navigator.credentials.get({ publicKey: {
        ...opts,
        challenge: dec(opts.challenge),
        allowCredentials: (opts.allowCredentials || []).map((c) => ({ ...c, id: dec(c.id) })),
      } });
      const response = { ...common(cred), response: {
        clientDataJSON: enc(cred.response.clientDataJSON),
        authenticatorData: enc(cred.response.authenticatorData),
        signature: enc(cred.response.signature),
        userHandle: cred.response.userHandle ? enc(cred.response.userHandle) : undefined,
      } };
      return api('/v1/login/webauthn', mfaToken ? { mfa_token: mfaToken, response } : { response });
    },
  };
})();
`;

type ApiResult = Pick<Res, 'status' | 'body'>;

describe.skipIf(!hasChromium)('WebAuthn in headless Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  let page: Page;
  let cdp: CDPSession;
  let authenticatorId: string;

  beforeAll(async () => {
    s = await startServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const context = await browser.newContext();
    page = await context.newPage();
    await page.goto(`${s.t.config.issuer}/healthz`);
    await page.addScriptTag({ content: HELPERS });
    cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    }));
  });
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  /** calls window.tw[fn](...args) in the page; the arguments travel as JSON */
  const tw = (fn: 'login' | 'register' | 'authenticate', ...args: unknown[]): Promise<ApiResult> =>
    page.evaluate(`window.tw.${fn}(${args.map((a) => JSON.stringify(a)).join(', ')})`);

  const amrOf = async (accessToken: string) => {
    const list = await http(s.url, 'GET', '/v1/sessions', { headers: { authorization: `Bearer ${accessToken}` } });
    return list.body.find((x: { current: boolean }) => x.current).amr as string[];
  };

  it('registers a passkey, signs in with it alone, and as the second factor after a password', async () => {
    expect(page.url()).toMatch(/^http:\/\/localhost:\d+\/healthz$/);
    await signUp(s, 'pat@example.com', PASSWORD);
    const at = (await http(s.url, 'POST', '/v1/login', { json: { email: 'pat@example.com', password: PASSWORD } })).body.access_token as string;

    const reg = await tw('register', at, 'Laptop');
    expect(reg.status).toBe(201);
    expect(reg.body).toMatchObject({ id: expect.any(String), name: 'Laptop', recovery_codes: expect.any(Array) });
    expect(reg.body.recovery_codes).toHaveLength(10);
    const listed = await http(s.url, 'GET', '/v1/mfa/webauthn', { headers: { authorization: `Bearer ${at}` } });
    expect(listed.body).toEqual([expect.objectContaining({ id: reg.body.id, name: 'Laptop', transports: ['internal'] })]);
    const me = await http(s.url, 'GET', '/v1/me', { headers: { authorization: `Bearer ${at}` } });
    expect(me.body.mfa).toMatchObject({ webauthn: true, recovery_codes_left: 10 });

    // The same authenticator cannot be registered twice (excludeCredentials makes the browser refuse).
    await expect(tw('register', at, 'Again')).rejects.toThrow(/InvalidStateError|excluded|already/i);

    // Passkey only: discoverable credential, user verified.
    const only = await tw('authenticate');
    expect(only.status).toBe(200);
    expect(only.body.token_type).toBe('Bearer');
    expect(await amrOf(only.body.access_token)).toEqual(['hwk', 'user']);

    // Password, then the passkey as the second factor.
    const pwd = await tw('login', 'pat@example.com', PASSWORD);
    expect(pwd.body).toMatchObject({ mfa_required: true, methods: ['webauthn', 'recovery_code'] });
    const second = await tw('authenticate', pwd.body.mfa_token);
    expect(second.status).toBe(200);
    expect(await amrOf(second.body.access_token)).toEqual(['pwd', 'hwk', 'mfa']);
    // The mfa_token is spent.
    const again = await tw('authenticate', pwd.body.mfa_token);
    expect(again.status).toBe(401);
    expect(again.body.code).toBe('invalid_mfa_token');
  });

  it('refuses a cloned authenticator whose signature counter goes backwards', async () => {
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    const cred = credentials[0];
    expect(cred.signCount).toBeGreaterThan(1);
    // The clone: the same private key, but with the counter of an earlier copy.
    await cdp.send('WebAuthn.removeCredential', { authenticatorId, credentialId: cred.credentialId });
    await cdp.send('WebAuthn.addCredential', { authenticatorId, credential: { ...cred, signCount: 0 } });
    const r = await tw('authenticate');
    expect(r.status).toBe(401);
    expect(r.body.code).toBe('invalid_credentials');
    const events = await s.t.events.list({ type: 'mfa_failed', limit: 10 });
    expect(events[0].data).toMatchObject({ method: 'passkey', reason: 'cloned_authenticator' });
  });

  it("a browser's mfa_token is useless elsewhere; recovery codes stand in for a lost passkey, which can be removed", async () => {
    const browserToken = (await tw('login', 'pat@example.com', PASSWORD)).body.mfa_token as string;
    expect(browserToken).toEqual(expect.any(String));
    // CDP speaks standard base64; the API speaks base64url
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    const id = Buffer.from(credentials[0].credentialId, 'base64').toString('base64url');
    const codes = await s.t.mfa.recovery.regenerate((await s.t.store.getUserByEmail('pat@example.com'))!.id);
    const session = await http(s.url, 'POST', '/v1/login/mfa', { json: { mfa_token: browserToken, method: 'recovery_code', code: codes[0] } });
    // the page's user agent is not node's: the token is bound to the browser that did the password step
    expect(session.body.code).toBe('invalid_mfa_token');
    const fresh = await http(s.url, 'POST', '/v1/login', { json: { email: 'pat@example.com', password: PASSWORD } });
    const ok = await http(s.url, 'POST', '/v1/login/mfa', { json: { mfa_token: fresh.body.mfa_token, method: 'recovery_code', code: codes[1] } });
    expect(ok.status).toBe(200);
    const del = await http(s.url, 'DELETE', `/v1/mfa/webauthn/${id}`, { headers: { authorization: `Bearer ${ok.body.access_token}` } });
    expect(del.status).toBe(204);
    const types = (await http(s.url, 'GET', '/v1/events', { headers: { authorization: `Bearer ${ok.body.access_token}` } })).body.map((e: { type: string }) => e.type);
    expect(types).toEqual(expect.arrayContaining(['passkey_added', 'passkey_removed']));
    const me = await http(s.url, 'GET', '/v1/me', { headers: { authorization: `Bearer ${ok.body.access_token}` } });
    expect(me.body.mfa).toMatchObject({ webauthn: false, recovery_codes_left: 0 });
  });
});
