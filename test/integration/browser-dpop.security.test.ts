/**
 * Issue 14 acceptance: a browser session bound to a key the page cannot give away. Headless Chromium signs
 * in through the real pages against a real server; the cookies are then copied out over CDP and replayed
 * from Node (another client) at the server's /v1/me, at the SDK-protected example notes API and at the
 * refresh endpoint, with every kind of proof a thief could bring. The server runs on a FakeClock, so a
 * nonce can be made stale without waiting; the notes API shares that clock. Binding is switched on with
 * TESSERA_BROWSER_KEY_BINDING=true.
 */
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { SignJWT, calculateJwkThumbprint } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessTokenHash } from '@tessera/sdk';
import { buildNotesApp } from '../../examples/notes/src/app.js';
import { FakeClock } from '../../packages/server/src/lib/clock.js';
import { PASSWORD, hasChromium, launch, signIn } from '../../packages/server/test/support/browser.js';
import { freePort, startServer, type TestServer } from '../../packages/server/test/support/server.js';

interface Claims {
  htm: string;
  htu: string;
  iat: number;
  nonce?: string | undefined;
  ath?: string | undefined;
}

/** A proof signed in the page with the stored key: what malware driving the live page can get. */
async function pageProof(page: Page, c: Claims): Promise<string> {
  return page.evaluate(async (claims) => {
    const req = <T,>(r: IDBRequest<T>) => new Promise<T>((resolve, reject) => ((r.onsuccess = () => resolve(r.result)), (r.onerror = () => reject(new Error(String(r.error))))));
    const db = await req(indexedDB.open('tessera-dpop', 1));
    const key = (await req(db.transaction('keys').objectStore('keys').get('current'))) as { privateKey: CryptoKey; publicKey: CryptoKey };
    db.close();
    const jwk = await crypto.subtle.exportKey('jwk', key.publicKey);
    const b64 = (u8: Uint8Array) => btoa(String.fromCharCode(...u8)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    const enc = (o: unknown) => b64(new TextEncoder().encode(JSON.stringify(o)));
    const payload = { jti: crypto.randomUUID(), htm: claims.htm, htu: claims.htu, iat: claims.iat, ...(claims.nonce ? { nonce: claims.nonce } : {}), ...(claims.ath ? { ath: claims.ath } : {}) };
    const input = `${enc({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } })}.${enc(payload)}`;
    const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key.privateKey, new TextEncoder().encode(input));
    return `${input}.${b64(new Uint8Array(sig))}`;
  }, c);
}

/** A proof from a key of the thief's own: everything right but the key. */
const thiefKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
async function otherKeyProof(c: Claims): Promise<string> {
  const jwk = thiefKey.publicKey.export({ format: 'jwk' });
  const payload = { jti: randomUUID(), htm: c.htm, htu: c.htu, iat: c.iat, ...(c.nonce ? { nonce: c.nonce } : {}), ...(c.ath ? { ath: c.ath } : {}) };
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).sign(thiefKey.privateKey);
}

/** The page's stored public key's RFC 7638 thumbprint (or null when IndexedDB holds none). */
async function storedJkt(page: Page): Promise<string | null> {
  const jwk = await page.evaluate(async () => {
    const req = <T,>(r: IDBRequest<T>) => new Promise<T>((resolve, reject) => ((r.onsuccess = () => resolve(r.result)), (r.onerror = () => reject(new Error(String(r.error))))));
    const db = await req(indexedDB.open('tessera-dpop', 1));
    const key = (await req(db.transaction('keys').objectStore('keys').get('current'))) as { publicKey: CryptoKey } | undefined;
    db.close();
    return key ? crypto.subtle.exportKey('jwk', key.publicKey) : null;
  });
  return jwk ? calculateJwkThumbprint({ kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, y: jwk.y! }) : null;
}

/** Every cookie of the browser, read over the DevTools protocol as a HAR exporter or malware would. */
async function cdpCookies(context: BrowserContext, page: Page): Promise<Record<string, string>> {
  const cdp = await context.newCDPSession(page);
  const { cookies } = (await cdp.send('Network.getAllCookies')) as { cookies: Array<{ name: string; value: string }> };
  await cdp.detach();
  return Object.fromEntries(cookies.map((c) => [c.name, c.value]));
}

const cookieHeader = (jar: Record<string, string>, names: string[]) => names.filter((n) => jar[n] !== undefined).map((n) => `${n}=${jar[n]}`).join('; ');
const nowSec = (clock: FakeClock) => Math.floor(clock.now() / 1000);

describe.skipIf(!hasChromium)('browser sessions bound to a non-extractable key (DPoP in cookie mode)', () => {
  const clock = new FakeClock(Date.now());
  let s: TestServer;
  let base: string;
  let browser: Browser;
  let notes: FastifyInstance;
  let notesUrl: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    s = await startServer({ clock, env: { TESSERA_BROWSER_KEY_BINDING: 'true' } });
    base = s.t.config.issuer;
    browser = await launch();
    const port = await freePort();
    notesUrl = `http://127.0.0.1:${port}`;
    ({ app: notes } = await buildNotesApp({ issuer: base, origin: notesUrl, dpopNonce: { secret: randomBytes(32) }, now: () => clock.now() }));
    await notes.listen({ port, host: '127.0.0.1' });
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await notes?.close();
    await s?.close();
  });

  async function signedInPage(email: string): Promise<{ context: BrowserContext; page: Page }> {
    await s.t.accounts.register({ email, password: PASSWORD });
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await signIn(page, base, email);
    return { context, page };
  }

  const api = (page: Page, method: string, path: string) =>
    page.evaluate<{ status: number; body: unknown }>(`import('/static/tessera-client.js').then((m) => m.api(${JSON.stringify(method)}, ${JSON.stringify(path)})).then((r) => ({ status: r.status, body: r.body }))`);
  /** The nonce a server hands any caller that shows it a DPoP header. */
  const nonceAt = async (url: string) => (await fetch(url, { headers: { dpop: 'x' } })).headers.get('dpop-nonce') ?? undefined;

  it('keeps a non-extractable key in IndexedDB (no key bytes stored) and binds the session to it', async () => {
    const { page } = await signedInPage('keys@example.com');
    const stored = await page.evaluate(async () => {
      const req = <T,>(r: IDBRequest<T>) => new Promise<T>((resolve, reject) => ((r.onsuccess = () => resolve(r.result)), (r.onerror = () => reject(new Error(String(r.error))))));
      const db = await req(indexedDB.open('tessera-dpop', 1));
      const records = (await req(db.transaction('keys').objectStore('keys').getAll())) as Array<Record<string, unknown>>;
      db.close();
      const attempts = await Promise.all(
        records.flatMap((r) => [r.privateKey as CryptoKey].flatMap((k) => (['jwk', 'pkcs8', 'raw'] as const).map((f) => crypto.subtle.exportKey(f, k).then(() => `${f}: exported`, (e: Error) => `${f}: ${e.name}`)))),
      );
      // Everything stored, field by field: CryptoKey objects and plain scalars only, no bytes, no JWK.
      const fields = records.flatMap((r) => Object.entries(r).map(([k, v]) => `${k}:${v instanceof CryptoKey ? `CryptoKey(${v.type},extractable=${v.extractable})` : v instanceof ArrayBuffer || ArrayBuffer.isView(v) ? 'BYTES' : typeof v}`));
      return { count: records.length, attempts, fields };
    });
    expect(stored.count).toBe(1);
    expect(stored.attempts).toEqual(['jwk: InvalidAccessError', 'pkcs8: InvalidAccessError', 'raw: InvalidAccessError']);
    expect(stored.fields.sort()).toEqual(['alg:string', 'createdAt:number', 'privateKey:CryptoKey(private,extractable=false)', 'publicKey:CryptoKey(public,extractable=true)']);

    const user = (await s.t.accounts.findUser('keys@example.com'))!;
    const [session] = await s.t.sessions.listLive(user.id);
    expect(session.dpopJkt).toBe(await storedJkt(page));
    const listed = await api(page, 'GET', '/v1/sessions');
    expect(listed).toMatchObject({ status: 200, body: [{ current: true, transport: 'cookie', dpop_bound: true }] });
    await page.goto(`${base}/account/sessions`);
    expect(await page.getAttribute('li.session.current [data-key-bound]', 'data-key-bound')).toBe('yes');
  });

  it('makes a new key at every sign-in and drops it at sign-out; two accounts on one profile never share one', async () => {
    await s.t.accounts.register({ email: 'second@example.com', password: PASSWORD });
    const { page } = await signedInPage('first@example.com');
    const first = await storedJkt(page);
    await page.click('button[data-action="sign-out"]');
    await page.waitForURL(`${base}/sign-in`);
    expect(await storedJkt(page)).toBeNull();
    await signIn(page, base, 'second@example.com');
    const second = await storedJkt(page);
    await page.click('button[data-action="sign-out"]');
    await page.waitForURL(`${base}/sign-in`);
    await signIn(page, base, 'first@example.com');
    const third = await storedJkt(page);
    expect(new Set([first, second, third]).size).toBe(3);
    const live = await s.t.sessions.listLive((await s.t.accounts.findUser('first@example.com'))!.id);
    expect(live.map((x) => x.dpopJkt)).toEqual([third]);
  });

  it('refuses the copied access cookie from another client at /v1/me and at the notes API, whatever proof comes along', async () => {
    const { context, page } = await signedInPage('victim@example.com');
    // A genuine proof, seen on the wire (a proxy log, a HAR file) after the page used it.
    const seen: string[] = [];
    page.on('request', (r) => void (r.url() === `${base}/v1/me` && r.headers().dpop && seen.push(r.headers().dpop)));
    expect((await api(page, 'GET', '/v1/me')).status).toBe(200);
    expect(seen).toHaveLength(1);

    const jar = await cdpCookies(context, page);
    const cookie = cookieHeader(jar, ['__Host-tessera_at', '__Host-tessera_csrf', '__Host-tessera_dpop']);
    const ath = accessTokenHash(jar['__Host-tessera_at']);
    const get = (url: string, dpop?: string, method = 'GET') => fetch(url, { method, headers: { cookie, ...(dpop ? { dpop } : {}) } });

    for (const [where, url] of [['server', `${base}/v1/me`], ['notes', `${notesUrl}/notes`]] as const) {
      const nonce = await nonceAt(url);
      expect(nonce, where).toBeTruthy();
      const claims = { htm: 'GET', htu: url, iat: nowSec(clock), nonce, ath };
      const noProof = await get(url);
      expect(noProof.status, `${where}: no proof`).toBe(401);
      expect(noProof.headers.get('www-authenticate'), where).toMatch(/^DPoP error="invalid_dpop_proof"/);
      expect((await get(url, await otherKeyProof(claims))).status, `${where}: another key`).toBe(401);
      expect((await get(url, await pageProof(page, { ...claims, htu: `${url}-other` }))).status, `${where}: another URL`).toBe(401);
      expect((await get(url, await pageProof(page, { ...claims, htm: 'DELETE' }))).status, `${where}: another method`).toBe(401);
      expect((await get(url, await pageProof(page, { ...claims, nonce: undefined }))).status, `${where}: no nonce`).toBe(401);
      // The limit of binding: a fresh proof signed by the live page itself (malware driving it) works once.
      const fresh = await pageProof(page, claims);
      expect((await get(url, fresh)).status, `${where}: proof from the page`).toBe(200);
      expect((await get(url, fresh)).status, `${where}: that proof replayed`).toBe(401);
    }
    expect((await get(`${base}/v1/me`, seen[0])).status, 'the proof seen on the wire, replayed').toBe(401);

    // Proofs signed in advance by the page (future iat, the nonce of now) are dead once the nonce is stale.
    const later = nowSec(clock) + 150;
    const server = await pageProof(page, { htm: 'GET', htu: `${base}/v1/me`, iat: later, nonce: await nonceAt(`${base}/v1/me`), ath });
    const api2 = await pageProof(page, { htm: 'GET', htu: `${notesUrl}/notes`, iat: later, nonce: await nonceAt(`${notesUrl}/notes`), ath });
    clock.advance(150_000);
    for (const [url, proof] of [[`${base}/v1/me`, server], [`${notesUrl}/notes`, api2]] as const) {
      const r = await get(url, proof);
      expect(r.status, url).toBe(401);
      expect(r.headers.get('www-authenticate'), url).toMatch(/^DPoP error="use_dpop_nonce"/);
      expect(r.headers.get('dpop-nonce'), url).toBeTruthy();
    }

    // The genuine page, reloaded (its clock and nonce from the page), still works.
    await page.reload();
    await expect.poll(() => page.textContent('[data-email]').catch(() => null)).toBe('victim@example.com');
    expect((await api(page, 'GET', '/v1/me')).status).toBe(200);
  });

  it('never rotates the copied refresh cookie without a fresh proof from the page key', async () => {
    const { context, page } = await signedInPage('refresh@example.com');
    const seen: string[] = [];
    page.on('request', (r) => void (r.url() === `${base}/v1/token` && r.headers().dpop && seen.push(r.headers().dpop)));
    expect(await page.evaluate("import('/static/tessera-client.js').then((m) => m.refresh())")).toBe(true);
    expect(seen).toHaveLength(1);

    const jar = await cdpCookies(context, page);
    const url = `${base}/v1/token`;
    const refresh = (dpop?: string) =>
      fetch(url, {
        method: 'POST',
        headers: { cookie: cookieHeader(jar, ['__Secure-tessera_rt', '__Host-tessera_csrf']), 'x-csrf-token': jar['__Host-tessera_csrf'], 'content-type': 'application/json', ...(dpop ? { dpop } : {}) },
        body: JSON.stringify({ grant_type: 'refresh_token' }),
      });
    const claims = (): Claims => ({ htm: 'POST', htu: url, iat: nowSec(clock) });
    const attempts: Array<[string, () => Promise<string | undefined>]> = [
      ['no proof', async () => undefined],
      ['another key', async () => otherKeyProof({ ...claims(), nonce: await nonceAt(url) })],
      ['the proof seen on the wire', async () => seen[0]],
      ['a proof for another URL', async () => pageProof(page, { ...claims(), htu: `${base}/v1/me`, nonce: await nonceAt(url) })],
      ['a proof for another method', async () => pageProof(page, { ...claims(), htm: 'GET', nonce: await nonceAt(url) })],
      ['a proof without a nonce', async () => pageProof(page, claims())],
    ];
    for (const [name, proof] of attempts) {
      const r = await refresh(await proof());
      expect(r.status, name).toBe(401);
      expect(r.headers.getSetCookie().join(';'), name).not.toMatch(/tessera_at=[^;]/);
    }
    const ahead = await pageProof(page, { ...claims(), iat: nowSec(clock) + 150, nonce: await nonceAt(url) });
    clock.advance(150_000);
    const stale = await refresh(ahead);
    expect(stale.status).toBe(401);
    expect(((await stale.json()) as { code: string }).code).toBe('use_dpop_nonce');

    // Nothing the thief tried rotated or revoked anything: the page refreshes on as before.
    await page.reload();
    await expect.poll(() => page.textContent('[data-email]').catch(() => null)).toBe('refresh@example.com');
    expect(await page.evaluate("import('/static/tessera-client.js').then((m) => m.refresh())")).toBe(true);
    expect(await s.t.events.list({ type: 'refresh_token_reused' })).toEqual([]);
  });

  it('without WebCrypto in a secure context, signs in unbound as before, and the sessions list says so', async () => {
    await s.t.accounts.register({ email: 'plain@example.com', password: PASSWORD });
    const context = await browser.newContext();
    contexts.push(context);
    // A browser that offers no secure-context WebCrypto: the client must not try to make a key.
    await context.addInitScript(() => Object.defineProperty(window, 'isSecureContext', { value: false }));
    const page = await context.newPage();
    await signIn(page, base, 'plain@example.com');
    expect(await page.textContent('[data-email]')).toBe('plain@example.com');
    const [session] = await s.t.sessions.listLive((await s.t.accounts.findUser('plain@example.com'))!.id);
    expect(session.dpopJkt).toBeNull();
    expect(await api(page, 'GET', '/v1/sessions')).toMatchObject({ status: 200, body: [{ current: true, dpop_bound: false }] });
    expect(await page.evaluate(() => fetch('/v1/me').then((r) => r.status))).toBe(200); // the cookie alone, as today
    await page.goto(`${base}/account/sessions`);
    expect(await page.getAttribute('li.session.current [data-key-bound]', 'data-key-bound')).toBe('no');
  });
});
