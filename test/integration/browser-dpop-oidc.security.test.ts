/**
 * The OpenID Connect pages with a key-bound browser session (TESSERA_BROWSER_KEY_BINDING=true): the genuine
 * page signs in to an app through /oauth/authorize (GET and the app's form POST) and /consent — the
 * navigation gets a shell whose script asks again with a proof and follows the `{ redirect }` answer. The
 * cookies copied out over CDP and replayed from Node with no proof, or with a proof from another key, never
 * yield a code, a redirect to the app or the consent page (which names the user).
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessTokenHash } from '@tessera/sdk';
import { PASSWORD, hasChromium, launch, signIn } from '../../packages/server/test/support/browser.js';
import { pkce, registerClient } from '../../packages/server/test/support/oidc.js';
import { startServer, type TestServer } from '../../packages/server/test/support/server.js';

const CB = 'http://127.0.0.1:9/cb';

const thiefKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
async function otherKeyProof(htm: string, htu: string, nonce: string | undefined, ath: string): Promise<string> {
  const jwk = thiefKey.publicKey.export({ format: 'jwk' });
  return new SignJWT({ jti: randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000), ath, ...(nonce ? { nonce } : {}) })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
    .sign(thiefKey.privateKey);
}

async function cdpCookies(context: BrowserContext, page: Page): Promise<Record<string, string>> {
  const cdp = await context.newCDPSession(page);
  const { cookies } = (await cdp.send('Network.getAllCookies')) as { cookies: Array<{ name: string; value: string }> };
  await cdp.detach();
  return Object.fromEntries(cookies.map((c) => [c.name, c.value]));
}

describe.skipIf(!hasChromium)('OpenID Connect authorization with a key-bound browser session', () => {
  let s: TestServer;
  let base: string;
  let browser: Browser;
  let firstParty: string;
  let thirdParty: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    s = await startServer({ env: { TESSERA_BROWSER_KEY_BINDING: 'true' } });
    base = s.t.config.issuer;
    browser = await launch();
    firstParty = (await registerClient(s.t, { type: 'web', redirectUris: [CB], firstParty: true })).id;
    thirdParty = (await registerClient(s.t, { type: 'web', name: 'Third Party', redirectUris: [CB] })).id;
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await s?.close();
  });

  /** A signed-in page whose app callback is answered in the browser, recording where it was sent. */
  async function signedInPage(email: string): Promise<{ context: BrowserContext; page: Page; arrivals: URL[] }> {
    await s.t.accounts.register({ email, password: PASSWORD });
    const context = await browser.newContext();
    contexts.push(context);
    const arrivals: URL[] = [];
    await context.route(`${CB}**`, async (route) => {
      arrivals.push(new URL(route.request().url()));
      await route.fulfill({ status: 200, contentType: 'text/plain', body: 'app' });
    });
    const page = await context.newPage();
    await signIn(page, base, email);
    return { context, page, arrivals };
  }

  const params = (client: string, state: string) => ({ response_type: 'code', client_id: client, redirect_uri: CB, scope: 'openid email', state, code_challenge: pkce().challenge, code_challenge_method: 'S256' });

  it('the genuine page reaches the app with a code and iss, by GET, by the app\'s form POST and through consent', async () => {
    const { page, arrivals } = await signedInPage('oidc-bound@example.com');
    await page.goto(`${base}/oauth/authorize?${new URLSearchParams(params(firstParty, 'get-1'))}`);
    await page.waitForURL(`${CB}**`);
    expect(arrivals).toHaveLength(1);
    expect(arrivals[0].searchParams.get('state')).toBe('get-1');
    expect(arrivals[0].searchParams.get('code')).toBeTruthy();
    expect(arrivals[0].searchParams.get('iss')).toBe(base);

    // the app's auto-submitted form POST (an app page of its own, another origin)
    await page.goto(`${base}/account`);
    await page.evaluate(([action, fields]) => {
      const f = Object.assign(document.createElement('form'), { method: 'post', action });
      for (const [name, value] of Object.entries(fields)) f.append(Object.assign(document.createElement('input'), { type: 'hidden', name, value }));
      document.body.append(f);
      HTMLFormElement.prototype.submit.call(f);
    }, [`${base}/oauth/authorize`, params(firstParty, 'post-1')] as const).catch(() => undefined);
    await page.waitForURL(`${CB}?**state=post-1**`);
    expect(arrivals).toHaveLength(2);
    expect(arrivals[1].searchParams.get('state')).toBe('post-1');
    expect(arrivals[1].searchParams.get('code')).toBeTruthy();

    await page.goto(`${base}/oauth/authorize?${new URLSearchParams(params(thirdParty, 'consent-1'))}`);
    await page.waitForSelector('form[data-form="consent"] button[value="allow"]');
    expect(new URL(page.url()).pathname).toBe('/consent');
    expect(await page.textContent('[data-client-name]')).toBe('Third Party');
    await page.click('form[data-form="consent"] button[value="allow"]');
    await page.waitForURL(`${CB}?**state=consent-1**`);
    expect(arrivals).toHaveLength(3);
    expect(arrivals[2].searchParams.get('state')).toBe('consent-1');
    expect(arrivals[2].searchParams.get('code')).toBeTruthy();
  });

  it('the copied cookies get a shell (no code, no redirect to the app, no consent page) or a 401, never a grant', async () => {
    const { context, page } = await signedInPage('oidc-thief@example.com');
    const jar = await cdpCookies(context, page);
    const cookie = ['__Host-tessera_at', '__Host-tessera_csrf', '__Host-tessera_dpop'].map((n) => `${n}=${jar[n]}`).join('; ');
    const ath = accessTokenHash(jar['__Host-tessera_at']);
    const grantsBefore = await s.t.oauth.listApps((await s.t.accounts.findUser('oidc-thief@example.com'))!.id);
    const nonce = (await fetch(`${base}/v1/me`, { headers: { dpop: 'x' } })).headers.get('dpop-nonce') ?? undefined;

    for (const client of [firstParty, thirdParty]) {
      const query = new URLSearchParams(params(client, 'thief'));
      const plain = await fetch(`${base}/oauth/authorize?${query}`, { redirect: 'manual', headers: { cookie } });
      expect(plain.status).toBe(200);
      expect(plain.headers.get('location')).toBeNull();
      const shell = await plain.text();
      expect(shell).toContain('data-page="bound-authorize"');
      expect(shell).not.toContain('code=');
      expect(plain.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");

      const proven = await fetch(`${base}/oauth/authorize?${query}`, { redirect: 'manual', headers: { cookie, dpop: await otherKeyProof('GET', `${base}/oauth/authorize`, nonce, ath) } });
      expect(proven.status).toBe(401);
      expect(await proven.text()).not.toContain('redirect');

      const posted = await fetch(`${base}/oauth/authorize`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: base }, body: query.toString() });
      expect(posted.status).toBe(200);
      expect(posted.headers.get('location')).toBeNull();
      expect(await posted.text()).toContain('data-page="bound-authorize"');
      const postedProven = await fetch(`${base}/oauth/authorize`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: base, 'x-csrf-token': jar['__Host-tessera_csrf'], dpop: await otherKeyProof('POST', `${base}/oauth/authorize`, nonce, ath) },
        body: query.toString(),
      });
      expect(postedProven.status).toBe(401);

      const consent = await fetch(`${base}/consent?${query}`, { redirect: 'manual', headers: { cookie } });
      expect(consent.status).toBe(200);
      const consentBody = await consent.text();
      expect(consentBody).toContain('data-page="bound"');
      expect(consentBody).not.toContain('oidc-thief@example.com');
      expect(consent.headers.get('x-frame-options')).toBe('DENY');
      const consentProven = await fetch(`${base}/consent?${query}`, { redirect: 'manual', headers: { cookie, dpop: await otherKeyProof('GET', `${base}/consent`, nonce, ath) } });
      expect(consentProven.status).toBe(401);
    }
    expect(await s.t.oauth.listApps((await s.t.accounts.findUser('oidc-thief@example.com'))!.id)).toEqual(grantsBefore);

    // A bad redirect URI is still an error page, never a redirect, bound cookie or not.
    const bad = await fetch(`${base}/oauth/authorize?${new URLSearchParams({ ...params(firstParty, 'x'), redirect_uri: 'https://evil.example/cb' })}`, { redirect: 'manual', headers: { cookie } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('location')).toBeNull();
  });
});
