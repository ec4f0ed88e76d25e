/**
 * The pages in headless Chromium against a real server on http://localhost:PORT (a secure context, so the
 * browser keeps the Secure `__Host-` cookies). The main server runs on a clock the test moves ahead: moving it past the
 * access token's lifetime makes the cookie's token expired without waiting.
 *
 * The five-tab silent-refresh scenario must run in real time (browser timers, cookie Max-Age) across three
 * access-token lifetimes of the minimum 30 s, ~95 s in all. It has its own real-clock server and starts in
 * beforeAll, so it mostly waits while the other tests run; the last test collects its verdict.
 */
import type { Browser, BrowserContext } from 'playwright-core';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/lib/clock.js';
import { startServer, type TestServer } from '../support/server.js';
import { PASSWORD, hasChromium, launch, screenshot, signIn, watch } from '../support/browser.js';
import { linkCount, mailedToken } from '../support/users.js';

const ACCESS_TTL = 30; // the configuration's minimum
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Five tabs of one signed-in browser left open across three access-token lifetimes, on a server with the
 * refresh grace window off (TESSERA_REFRESH_GRACE=0), so any refresh token presented twice is reuse.
 */
async function fiveTabs(s: TestServer, browser: Browser): Promise<void> {
  const base = s.t.config.issuer;
  const user = await s.t.accounts.register({ email: 'tabs@example.com', password: PASSWORD });
  const context = await browser.newContext();
  try {
    const problems = await watch(context);
    const first = await context.newPage();
    await signIn(first, base, user.email);
    const tabs = [first];
    for (let i = 0; i < 4; i++) {
      const tab = await context.newPage();
      await tab.goto(`${base}/account`);
      tabs.push(tab);
    }
    const [session] = await s.t.store.listLiveSessions(user.id, Date.now());
    expect(session.dpopJkt).toMatch(/^[\w-]{43}$/); // bound to the browser's key: every request below carries proofs
    const rotations = async () => (await s.t.store.listRefreshTokens(session.id)).filter((r) => r.usedAt !== null).length;

    await sleep(3 * ACCESS_TTL * 1000 + 3000);
    // Right now: every tab's requests carry a live access cookie and a proof from the key the server takes.
    for (const tab of tabs) expect(await tab.evaluate("import('/static/tessera-client.js').then((m) => m.api('GET', '/v1/me')).then((r) => r.status)")).toBe(200);
    // One refresh per lifetime for the whole browser, not one per tab (~4 in ~93 s, 15+ if tabs refreshed alone).
    const before = await rotations();
    expect(before).toBeGreaterThanOrEqual(3);
    expect(before).toBeLessThanOrEqual(6);

    // All five ask at the same instant: the lock lets one rotate, the others see the new cookie and stand down.
    const results = await Promise.all(tabs.map((tab) => tab.evaluate("import('/static/tessera-client.js').then((m) => m.refresh())")));
    expect(results).toEqual([true, true, true, true, true]);
    expect(await rotations()).toBe(before + 1);

    for (const tab of tabs) {
      await tab.reload();
      expect(new URL(tab.url()).pathname).toBe('/account');
      expect(await tab.textContent('[data-email]')).toBe(user.email);
    }
    expect(await s.t.events.list({ type: 'refresh_token_reused' })).toEqual([]);
    expect(await s.t.sessions.live(session.id)).toBeDefined();
    expect(problems).toEqual([]);
  } finally {
    await context.close();
  }
}

describe.skipIf(!hasChromium)('pages in headless Chromium', () => {
  let s: TestServer;
  let base: string;
  let browser: Browser;
  // A clock that ticks like a real one and can be moved ahead: the pages' DPoP proofs take their `iat` from
  // the server time the page was served with, and a frozen server clock would see them drift into the future.
  let skew = 0;
  const clock: Clock & { advance(ms: number): void } = { now: () => Date.now() + skew, advance: (ms) => void (skew += ms) };
  const contexts: BrowserContext[] = [];
  const newContext = async (viewport = { width: 1280, height: 800 }) => {
    const c = await browser.newContext({ viewport });
    contexts.push(c);
    return c;
  };

  let realTime: TestServer;
  let fiveTabsVerdict: Promise<Error | null>;

  beforeAll(async () => {
    // The /admin page's buttons are what these tests exercise; the admin second-factor rule has its own
    // attack test (test/http/admin.security.test.ts), so the admin here signs in with a password.
    s = await startServer({ clock, env: { TESSERA_ADMIN_REQUIRE_MFA: 'false', TESSERA_BROWSER_KEY_BINDING: 'true' } });
    base = s.t.config.issuer;
    expect(base).toMatch(/^http:\/\/localhost:\d+$/);
    browser = await launch();
    realTime = await startServer({ env: { TESSERA_ACCESS_TTL: String(ACCESS_TTL), TESSERA_REFRESH_GRACE: '0', TESSERA_BROWSER_KEY_BINDING: 'true' } });
    // Started, not awaited: settles to null or the error, checked by the last test.
    fiveTabsVerdict = fiveTabs(realTime, browser).then(
      () => null,
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
  });
  afterAll(async () => {
    await fiveTabsVerdict;
    await browser?.close();
    await s?.close();
    await realTime?.close();
  });

  it('signs up, sees the account page, survives an expired access token, and signs out', async () => {
    const context = await newContext();
    const problems = await watch(context);
    const page = await context.newPage();
    // every refused request with its proof claims, so a failure says which check refused it
    const dbg: string[] = [];
    page.on('response', (r) => {
      if (r.status() !== 401) return;
      const proof = r.request().headers().dpop;
      const claims = proof ? Buffer.from(proof.split('.')[1], 'base64url').toString() : 'no proof';
      dbg.push(`${r.request().method()} ${r.url()} ${r.headers()['www-authenticate']} ${claims} server-now=${clock.now()}`);
    });
    await page.goto(`${base}/sign-up`);
    await page.fill('input[name="email"]', 'Ada@Example.com');
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    // sign-up says "check your mail"; the link in the mail (the outbox here) confirms the address
    await page.waitForSelector('[data-check-mail]:not([hidden])');
    expect(await page.textContent('[data-sent-to]')).toBe('Ada@Example.com');
    const token = await mailedToken({ dataDir: s.dataDir }, 'ada@example.com', 'verify-email');
    await page.goto(`${base}/verify-email?token=${encodeURIComponent(token)}`);
    expect(new URL(page.url()).search).toBe(''); // the token leaves the address bar and history
    await page.click('button[type="submit"]');
    await page.waitForSelector('[data-status].ok');
    expect(await page.textContent('[data-status].ok')).toContain('confirmed');

    // sign in through the form, then out, then back in
    await page.goto(`${base}/account`);
    await page.waitForURL(/\/sign-in\?next=%2Faccount$/);
    await signIn(page, base, 'ada@example.com');
    expect(await page.textContent('[data-email]')).toBe('ada@example.com');
    await page.click('button[data-action="sign-out"]');
    await page.waitForURL(`${base}/sign-in`);
    await page.goto(`${base}/account`);
    await page.waitForURL(/\/sign-in\?next=%2Faccount$/);
    await signIn(page, base, 'ada@example.com');

    // the access token expires; the refresh cookie (Path=/v1/token) brings the session back on reload
    // (past the verifiers' clock leeway too, so the server itself refuses the old access cookie)
    clock.advance((s.t.config.TESSERA_ACCESS_TTL + 61) * 1000);
    const refreshes: number[] = [];
    page.on('response', (r) => {
      if (r.url().endsWith('/v1/token')) refreshes.push(r.status());
    });
    await page.reload();
    await page.waitForURL(`${base}/account`);
    await expect.poll(() => page.textContent('[data-email]').catch(() => null)).toBe('ada@example.com');
    await expect.poll(() => refreshes.length).toBeGreaterThan(0);
    await sleep(300);
    expect({ refreshes, dbg }).toEqual({ refreshes: [200], dbg: [] });

    await page.click('button[data-action="sign-out"]');
    await page.waitForURL(`${base}/sign-in`);
    await page.goto(`${base}/account`);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    expect(problems).toEqual([]);
  });

  it('an unconfirmed address: sign-in explains and resends the link; screenshots at 1280 and 390 px', async () => {
    for (const [width, height] of [[1280, 800], [390, 844]] as const) {
      const email = `pending-${width}@example.com`;
      const context = await newContext({ width, height });
      const problems = await watch(context);
      const page = await context.newPage();
      await page.goto(`${base}/sign-up`);
      await page.fill('input[name="email"]', email);
      await page.fill('input[name="password"]', PASSWORD);
      await page.click('button[type="submit"]');
      await page.waitForSelector('[data-check-mail]:not([hidden])');
      await screenshot(page, 'sign-up-check-mail');
      const before = await linkCount({ dataDir: s.dataDir }, email, 'verify-email');
      await page.goto(`${base}/sign-in`);
      await page.fill('input[name="email"]', email);
      await page.fill('input[name="password"]', PASSWORD);
      await page.click('form[data-form="sign-in"] button[type="submit"]');
      await page.waitForSelector('[data-unverified-notice]:not([hidden])');
      await page.click('button[data-action="resend-verification"]');
      await page.waitForSelector('[data-unverified-notice] [data-status].ok');
      await screenshot(page, 'sign-in-unverified');
      await expect.poll(() => linkCount({ dataDir: s.dataDir }, email, 'verify-email')).toBeGreaterThan(before);
      const token = await mailedToken({ dataDir: s.dataDir }, email, 'verify-email');
      await page.goto(`${base}/verify-email?token=${encodeURIComponent(token)}`);
      await page.click('button[type="submit"]');
      await page.waitForSelector('[data-status].ok');
      await screenshot(page, 'verify-email-done');
      // the browser reports the answered 403 itself; anything else (a script error, CSP) is a problem
      expect(problems.filter((p) => !/status of 403/.test(p))).toEqual([]);
    }
  });

  it('keeps every token out of reach of page script and storage', async () => {
    await s.t.accounts.register({ email: 'bo@example.com', password: PASSWORD });
    const context = await newContext();
    const page = await context.newPage();
    await signIn(page, base, 'bo@example.com');
    const jar = await context.cookies();
    const at = jar.find((c) => c.name === '__Host-tessera_at')!;
    const rt = jar.find((c) => c.name === '__Secure-tessera_rt')!;
    expect(at.httpOnly && rt.httpOnly).toBe(true);
    expect(at.value.split('.')).toHaveLength(3);

    // what an injected script can reach: cookies, both storages, and the API's responses
    // (through the page's client, which adds the CSRF header and the DPoP proof this key-bound session needs)
    const seen = await page.evaluate<Record<string, string>>(`(async () => {
      const m = await import('/static/tessera-client.js');
      const dump = (st) => Object.keys(st).map((k) => k + '=' + st.getItem(k)).join('\\n');
      const me = JSON.stringify((await m.api('GET', '/v1/me')).body);
      const refreshed = JSON.stringify((await m.api('POST', '/v1/token', { grant_type: 'refresh_token' })).body);
      return { cookie: document.cookie, local: dump(localStorage), session: dump(sessionStorage), me, refreshed };
    })()`);
    expect(JSON.parse(seen.me)).toMatchObject({ email: 'bo@example.com' });
    const after = await context.cookies();
    const secrets = [at.value, rt.value, ...after.filter((c) => c.httpOnly).map((c) => c.value)];
    for (const secret of secrets) {
      for (const [where, text] of Object.entries(seen)) expect(text.includes(secret), where).toBe(false);
    }
    expect(seen.cookie).not.toMatch(/tessera_at|tessera_rt/);
    expect(seen.local).toBe('');
    expect(seen.session).toBe('');
    expect(Object.keys(JSON.parse(seen.refreshed) as object).sort()).toEqual(['expires_in', 'session_id']);
    expect(seen.refreshed).not.toMatch(/eyJ/); // no JWT anywhere in the body
  });

  it('signs out another browser from the sessions page; its next navigation lands on /sign-in', async () => {
    await s.t.accounts.register({ email: 'cy@example.com', password: PASSWORD });
    const a = await (await newContext()).newPage();
    const b = await (await newContext()).newPage();
    await signIn(a, base, 'cy@example.com');
    await signIn(b, base, 'cy@example.com');

    await a.goto(`${base}/account/sessions`);
    await a.waitForSelector('li.session'); // a key-bound session's page arrives in place, after its shell
    expect(await a.locator('li.session').count()).toBe(2);
    expect(await a.locator('li.session.current').textContent()).toContain('This device');
    await a.click('li.session:not(.current) button[data-action="revoke-session"]');
    await expect.poll(() => a.locator('li.session').count()).toBe(1);

    await b.goto(`${base}/account/events`);
    await b.waitForURL(/\/sign-in/);
    await a.reload();
    expect(new URL(a.url()).pathname).toBe('/account/sessions'); // A itself is still signed in
  });

  it('enrols TOTP from the page, shows recovery codes once, and asks for a code at the next sign-in', async () => {
    const di = await s.t.accounts.register({ email: 'di@example.com', password: PASSWORD });
    const context = await newContext({ width: 390, height: 844 });
    const problems = await watch(context);
    const page = await context.newPage();
    await signIn(page, base, 'di@example.com');
    await page.click('button[data-action="start-totp"]');
    await page.waitForSelector('#totp-secret:not(:empty)');
    expect(await page.locator('[data-qr] svg path').count()).toBeGreaterThan(0);
    await screenshot(page, 'account-totp');
    const secret = (await page.textContent('#totp-secret'))!.trim();
    const totp = new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 });

    await page.fill('#totp-code', '000000' === totp.generate({ timestamp: clock.now() }) ? '111111' : '000000');
    await page.click('form[data-form="verify-totp"] button[type="submit"]');
    await expect.poll(() => page.textContent('form[data-form="verify-totp"] [data-status]')).toMatch(/code/i);

    await page.fill('#totp-code', totp.generate({ timestamp: clock.now() }));
    await page.click('form[data-form="verify-totp"] button[type="submit"]');
    await page.waitForSelector('[data-recovery-codes]:not([hidden])');
    expect(await page.locator('[data-codes] li').count()).toBe(10);
    await page.reload();
    expect(await page.locator('[data-codes] li').count()).toBe(0); // shown once
    expect(await page.textContent('[data-mfa]')).toContain('On');

    await page.click('button[data-action="sign-out"]');
    await page.waitForURL(`${base}/sign-in`);
    await signIn(page, base, 'di@example.com', { expectMfa: true });
    expect(await page.locator('select[name="method"] option').evaluateAll((o) => o.map((x) => (x as HTMLOptionElement).value))).toEqual(
      expect.arrayContaining(['totp', 'recovery_code']),
    );
    await screenshot(page, 'sign-in-mfa');
    clock.advance(30_000); // the enrolment consumed the current step: a code is good once
    await page.fill('form[data-form="mfa"] input[name="code"]', totp.generate({ timestamp: clock.now() }));
    await page.click('form[data-form="mfa"] button[type="submit"]');
    await page.waitForURL(`${base}/account`);
    // the MFA step carried a proof from the key made at its password step: the new session is key-bound
    const mfaSession = (await s.t.sessions.listLive(di.id)).find((x) => x.amr.includes('otp'));
    expect(mfaSession?.dpopJkt).toMatch(/^[\w-]{43}$/);
    // the browser logs the deliberate wrong code's 401; nothing else
    expect(problems.filter((p) => !p.includes('status of 401'))).toEqual([]);
    expect(problems).toHaveLength(1);
  });

  it('shows the forced-reset notice when sign-in answers password_reset_required', async () => {
    const u = await s.t.accounts.register({ email: 'ed@example.com', password: PASSWORD });
    await s.t.store.setPasswordResetRequired(u.id, true);
    const page = await (await newContext()).newPage();
    await page.goto(`${base}/sign-in`);
    await page.fill('input[name="email"]', 'ed@example.com');
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('form[data-form="sign-in"] button[type="submit"]');
    await page.waitForSelector('[data-reset-notice]:not([hidden])');
    expect(await page.getAttribute('[data-reset-notice] a', 'href')).toBe('/forgot-password');
    await page.click('[data-reset-notice] a');
    await page.waitForURL(`${base}/forgot-password`);
    await page.fill('input[name="email"]', 'ed@example.com');
    await page.click('button[type="submit"]');
    await expect.poll(() => page.textContent('[data-status]')).toMatch(/reset link/i);
  });

  it('every page loads without console errors or CSP violations, at desktop and phone widths (screenshots)', async () => {
    const admin = await s.t.accounts.register({ email: 'root@example.com', password: PASSWORD, isAdmin: true });
    const victim = await s.t.accounts.register({ email: 'fay@example.com', password: PASSWORD });
    await s.t.events.record({
      type: 'impossible_travel',
      userId: admin.id,
      ip: '8.8.8.8',
      data: { action: 'block', from: { city: 'London', country: 'GB' }, to: { city: 'Mountain View', country: 'US' }, fromIp: '81.2.69.160', toIp: '8.8.8.8', km: 8612, minutes: 3, kmh: 172240 },
    });
    await s.t.events.record({ type: 'new_device', userId: admin.id, ip: '81.2.69.160', data: { device: { browser: 'Firefox', os: 'Windows' }, location: { city: 'London', country: 'GB' } } });
    // a live session for the admin page to list
    expect((await s.app.inject({ method: 'POST', url: '/v1/login', payload: { email: victim.email, password: PASSWORD }, headers: { 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Mobile/15E148 Safari/604.1' } })).statusCode).toBe(200);
    const pages = [
      { name: 'sign-in', path: '/sign-in', signedIn: false },
      { name: 'sign-up', path: '/sign-up', signedIn: false },
      { name: 'forgot-password', path: '/forgot-password', signedIn: false },
      { name: 'reset-password', path: '/reset-password?token=abc.def', signedIn: false },
      { name: 'verify-email', path: '/verify-email?token=abc.def', signedIn: false },
      { name: 'account', path: '/account', signedIn: true },
      { name: 'sessions', path: '/account/sessions', signedIn: true },
      { name: 'events', path: '/account/events', signedIn: true },
      { name: 'admin', path: `/admin?user=${encodeURIComponent(victim.email)}`, signedIn: true },
      { name: 'admin-events', path: '/admin?type=impossible_travel', signedIn: true },
    ];
    for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
      const context = await newContext(viewport);
      const problems = await watch(context);
      const page = await context.newPage();
      await signIn(page, base, admin.email);
      const anonymous = await newContext(viewport);
      const anonymousProblems = await watch(anonymous);
      const anonymousPage = await anonymous.newPage();
      for (const p of pages) {
        const pageProblems = p.signedIn ? problems : anonymousProblems;
        const tab = p.signedIn ? page : anonymousPage;
        await tab.goto(`${base}${p.path}`);
        expect(new URL(tab.url()).pathname, p.name).toBe(p.path.split('?')[0]);
        // no horizontal scrolling at phone width
        expect(await tab.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `${p.name} fits ${viewport.width}px`).toBe(true);
        await screenshot(tab, p.name);
        expect(pageProblems, p.name).toEqual([]);
      }
    }
    const page = await (await newContext()).newPage();
    await signIn(page, base, admin.email);
    await page.goto(`${base}/account/events`);
    expect(await page.textContent('li[data-event-type="impossible_travel"]')).toMatch(/London, GB.*Mountain View, US.*8,612 km/s);
  }, 60_000);

  it('an admin revokes a user’s sessions and requires a reset from /admin', async () => {
    const target = await s.t.accounts.register({ email: 'gus@example.com', password: PASSWORD });
    const victimPage = await (await newContext()).newPage();
    await signIn(victimPage, base, target.email);
    const page = await (await newContext()).newPage();
    await signIn(page, base, 'root@example.com');
    await page.goto(`${base}/admin?user=gus%40example.com`);
    expect(await page.textContent('[data-subject]')).toContain('Live sessions (1)');
    await page.click('button[data-admin-action="revoke-sessions"]');
    // destructive: a confirmation step first
    await page.click('.confirm-step button[data-confirm-yes]');
    await expect.poll(() => page.textContent('[data-subject]')).toContain('Live sessions (0)');
    await page.click('button[data-admin-action="require-password-reset"]');
    await page.click('.confirm-step button[data-confirm-yes]');
    await expect.poll(() => page.textContent('[data-subject]')).toMatch(/Password reset required\s*yes/);
    await victimPage.goto(`${base}/account`);
    await victimPage.waitForURL(/\/sign-in/);
  });

  it('five tabs left open across three access-token lifetimes all stay signed in, with no refresh-token reuse', async () => {
    const err = await fiveTabsVerdict;
    if (err) throw err;
  }, 150_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
  });
});
