/**
 * /account's authenticator app enrolment in headless Chromium: "On" the moment verification succeeds (no
 * reload), the recovery codes offered with Copy and Download (a blob: URL under the pages' CSP), the same for
 * a regenerated set; and a rate-limited sign-in that says how long to wait, from Retry-After.
 */
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/server.js';
import { PASSWORD, hasChromium, launch, screenshot, signIn, watch } from '../support/browser.js';
import { signUp } from '../support/users.js';

/** The Download button's file, through playwright's download event. */
async function downloaded(page: Page): Promise<{ name: string; text: string }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-recovery-codes] button[data-action="download-codes"]')]);
  return { name: download.suggestedFilename(), text: await readFile(await download.path(), 'utf8') };
}

const shownCodes = (page: Page) => page.locator('[data-codes] li').allTextContents();

describe.skipIf(!hasChromium)('recovery codes and rate-limit messages in Chromium', () => {
  let s: TestServer;
  let limited: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    s = await startServer();
    // 4 sign-in attempts per IP per 15 minutes: the fifth from the browser is refused
    limited = await startServer({ env: { TESSERA_LOGIN_LIMIT_PER_IP: '4' } });
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await s?.close();
    await limited?.close();
  });

  it('turns the authenticator app "On" at once and offers its recovery codes (and new ones) to copy and download', async () => {
    const base = s.t.config.issuer;
    await signUp(s, 'rue@example.com', PASSWORD);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    const problems = await watch(context);
    const page = await context.newPage();
    await signIn(page, base, 'rue@example.com');
    expect(await page.textContent('[data-totp] .badge')).toBe('Off');

    await page.click('button[data-action="start-totp"]');
    await page.waitForSelector('#totp-secret:not(:empty)');
    const secret = (await page.textContent('#totp-secret'))!.trim();
    const totp = new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 });
    await page.evaluate(() => Object.assign(window, { samePage: true })); // gone if the page reloaded
    await page.fill('#totp-code', totp.generate());
    await page.click('form[data-form="verify-totp"] button[type="submit"]');

    // "On" right away, in this very page, with the On state's controls and the codes
    await page.waitForSelector('[data-totp="on"] .badge.on');
    expect(await page.evaluate(() => (window as unknown as { samePage?: boolean }).samePage)).toBe(true);
    expect(await page.textContent('[data-totp] .badge')).toBe('On');
    expect(await page.locator('[data-totp] .badge:not(.on)').count()).toBe(0);
    expect(await page.isVisible('button[data-action="new-recovery-codes"]')).toBe(true);
    expect(await page.isVisible('button[data-action="remove-totp"]')).toBe(true);
    expect(await page.textContent('[data-recovery-left]')).toBe('10');
    expect(await page.textContent('[data-mfa-status]')).toMatch(/authenticator app is on/i);
    const codes = await shownCodes(page);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    await screenshot(page, 'account-recovery-codes');

    await page.click('[data-recovery-codes] button[data-action="copy-codes"]');
    await expect.poll(() => page.textContent('[data-recovery-codes] [data-status]')).toMatch(/copied/i);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(codes.join('\n'));

    const file = await downloaded(page);
    expect(file.name).toBe('tessera-recovery-codes.txt');
    for (const code of codes) expect(file.text).toContain(code);
    expect(file.text).toContain('rue@example.com');

    // the server agrees: on after a reload, codes shown once
    await page.reload();
    expect(await page.textContent('[data-totp] .badge')).toBe('On');
    expect(await page.locator('[data-codes] li').count()).toBe(0);

    // a regenerated set: the same offer; with the clipboard refused, Copy selects the codes instead
    await page.click('button[data-action="new-recovery-codes"]');
    await page.waitForSelector('[data-recovery-codes]:not([hidden])');
    const fresh = await shownCodes(page);
    expect(fresh).toHaveLength(10);
    expect(fresh.some((c) => codes.includes(c))).toBe(false);
    expect(await page.textContent('[data-recovery-left]')).toBe('10');
    const again = await downloaded(page);
    for (const code of fresh) expect(again.text).toContain(code);
    for (const code of codes) expect(again.text).not.toContain(code);
    await page.evaluate(() => {
      Object.defineProperty(navigator, 'clipboard', { value: { writeText: () => Promise.reject(new DOMException('refused', 'NotAllowedError')) } });
    });
    await page.click('[data-recovery-codes] button[data-action="copy-codes"]');
    await expect.poll(() => page.textContent('[data-recovery-codes] [data-status]')).toMatch(/copied|selected/i);
    const selected = await page.evaluate(() => getSelection()?.toString() ?? '');
    for (const code of fresh) expect(selected).toContain(code);

    expect(problems).toEqual([]);
    await context.close();
  });

  it('a rate-limited sign-in says how long to wait, from Retry-After, never the bare code', async () => {
    const base = limited.t.config.issuer;
    await signUp(limited, 'sal@example.com', PASSWORD);
    const context = await browser.newContext();
    const problems = await watch(context);
    const page = await context.newPage();
    let retryAfter: string | undefined;
    page.on('response', (r) => {
      if (r.url().endsWith('/v1/login') && r.status() === 429) retryAfter = r.headers()['retry-after'];
    });
    await page.goto(`${base}/sign-in`);
    const status = page.locator('form[data-form="sign-in"] [data-status]');
    for (let i = 0; i < 8 && retryAfter === undefined; i++) {
      await status.evaluate((el) => el.replaceChildren());
      await page.fill('form[data-form="sign-in"] input[name="email"]', 'sal@example.com');
      await page.fill('form[data-form="sign-in"] input[name="password"]', `wrong password ${i}`);
      await page.click('form[data-form="sign-in"] button[type="submit"]');
      await expect.poll(() => status.textContent()).not.toBe('');
    }
    expect(retryAfter).toMatch(/^\d+$/);
    const minutes = Math.ceil(Number(retryAfter) / 60);
    expect(minutes).toBeGreaterThan(1); // a 15-minute window: "N minutes"
    expect(await status.textContent()).toBe(`Too many attempts. Try again in ${minutes} minutes.`);
    expect(await status.textContent()).not.toMatch(/rate_limited|429/);
    await screenshot(page, 'sign-in-rate-limited');
    // the browser logs each refused request's status; nothing else (no CSP violation, no script error)
    expect(problems.filter((p) => !/status of (401|429)/.test(p))).toEqual([]);
    await context.close();
  });
});
