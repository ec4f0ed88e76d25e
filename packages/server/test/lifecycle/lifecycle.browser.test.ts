/**
 * The lifecycle pages in headless Chromium (real server, real SMTP sink): change of email through the mailed
 * link, deletion behind the typed confirmation, and the admin user list with its confirmation step; each
 * screenshotted at 1280 and 390 px, with no console error or CSP violation.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { user } from '../support/store-fixtures.js';
import { signUp } from '../support/users.js';
import { PASSWORD, hasChromium, launch, screenshot, signIn, watch } from '../support/browser.js';
import { linkToken, mailTo, startWithMail, type MailServer } from './support.js';

async function shots(page: Page, name: string): Promise<void> {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await screenshot(page, name);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

describe.skipIf(!hasChromium)('lifecycle pages in headless Chromium', () => {
  let m: MailServer;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let problems: string[];
  beforeAll(async () => {
    // the admin second-factor rule has its own attack test (test/http/admin.security.test.ts)
    m = await startWithMail({ TESSERA_ADMIN_REQUIRE_MFA: 'false' });
    base = m.s.t.config.issuer;
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await m?.close();
  });
  const fresh = async () => {
    await context?.close();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    problems = await watch(context);
    return context.newPage();
  };

  it('changes the email through the confirmation link', async () => {
    await signUp(m.s, 'page-old@example.com', PASSWORD);
    const page = await fresh();
    await signIn(page, base, 'page-old@example.com');
    await page.click('summary:has-text("Change email")');
    await page.fill('form[data-form="change-email"] input[name="new_email"]', 'page-new@example.com');
    await page.click('form[data-form="change-email"] button[type="submit"]');
    await expect.poll(() => page.textContent('form[data-form="change-email"] [data-status]')).toContain('confirmation link');
    await shots(page, 'account-change-email');
    const token = linkToken(await mailTo(m.sink, 'page-new@example.com', '/confirm-email?token='), 'confirm-email');
    await page.goto(`${base}/confirm-email?token=${encodeURIComponent(token)}`);
    await shots(page, 'confirm-email');
    await page.click('form[data-form="confirm-email"] button[type="submit"]');
    await expect.poll(() => page.textContent('form[data-form="confirm-email"] [data-status]')).toContain('Your email address is changed');
    expect(new URL(page.url()).search).toBe('');
    await page.goto(`${base}/account`);
    expect(await page.textContent('[data-email]')).toBe('page-new@example.com');
    expect(problems).toEqual([]);
  });

  it('deletes the account only after the typed confirmation', async () => {
    await signUp(m.s, 'page-leaving@example.com', PASSWORD);
    const page = await fresh();
    await signIn(page, base, 'page-leaving@example.com');
    await expect.poll(() => page.getAttribute('a[data-export]', 'href')).toBe('/v1/me/export');
    const download = await page.evaluate(() => fetch('/v1/me/export').then(async (r) => ({ status: r.status, cd: r.headers.get('content-disposition'), body: (await r.json()) as { profile: { email: string } } })));
    expect(download).toMatchObject({ status: 200, cd: expect.stringMatching(/^attachment/), body: { profile: { email: 'page-leaving@example.com' } } });
    await page.fill('form[data-form="delete-account"] input[name="confirm"]', 'someone-else@example.com');
    await page.click('form[data-form="delete-account"] button[type="submit"]');
    await expect.poll(() => page.textContent('form[data-form="delete-account"] [data-status]')).toContain('Type your email address');
    expect(await m.s.t.store.getUserByEmail('page-leaving@example.com')).toBeDefined();
    await page.fill('form[data-form="delete-account"] input[name="confirm"]', 'page-leaving@example.com');
    await shots(page, 'account-delete');
    await page.click('form[data-form="delete-account"] button[type="submit"]');
    await page.waitForURL(`${base}/sign-in`);
    expect(await m.s.t.store.getUserByEmail('page-leaving@example.com')).toBeUndefined();
    expect(problems).toEqual([]);
  });

  it('lists, searches, disables (after confirming) and deletes users on /admin, naming them by email', async () => {
    await m.s.t.accounts.register({ email: 'page-root@example.com', password: PASSWORD, isAdmin: true });
    for (let i = 0; i < 30; i++) await m.s.t.store.createUser(user({ email: `member-${String(i).padStart(2, '0')}@example.com`, createdAt: Date.now() + i }));
    await signUp(m.s, 'page-target@example.com', PASSWORD);
    const page = await fresh();
    await signIn(page, base, 'page-root@example.com');
    await page.goto(`${base}/admin`);
    expect(await page.locator('tr[data-user-row]').count()).toBe(25);
    expect(await page.isVisible('a[rel="next"]')).toBe(true);
    await shots(page, 'admin-users');
    await page.fill('input[name="query"]', 'page-target');
    await page.click('form.search button[type="submit"]');
    await expect.poll(() => page.locator('tr[data-user-row]').count()).toBe(1);
    // the events name users by email, never a bare "user" link
    expect(await page.locator('.timeline a', { hasText: /^user$/ }).count()).toBe(0);
    expect(await page.locator('.timeline a', { hasText: 'page-target@example.com' }).count()).toBeGreaterThan(0);
    await page.click('tr[data-user-row] a');
    await page.click('button[data-admin-action="disable"]');
    // nothing happens before the confirmation
    await expect.poll(() => page.isVisible('.confirm-step')).toBe(true);
    expect((await m.s.t.store.getUserByEmail('page-target@example.com'))!.disabledAt).toBeNull();
    await shots(page, 'admin-confirm');
    await page.click('.confirm-step button:has-text("Cancel")');
    expect(await page.isVisible('.confirm-step')).toBe(false);
    await page.click('button[data-admin-action="disable"]');
    await Promise.all([page.waitForEvent('load'), page.click('.confirm-step button[data-confirm-yes]')]);
    await expect.poll(async () => (await m.s.t.store.getUserByEmail('page-target@example.com'))!.disabledAt).not.toBeNull();
    await expect.poll(() => page.isVisible('button[data-admin-action="enable"]')).toBe(true);
    await page.click('button[data-admin-action="delete"]');
    await page.click('.confirm-step button[data-confirm-yes]');
    await page.waitForURL(`${base}/admin`);
    expect(await m.s.t.store.getUserByEmail('page-target@example.com')).toBeUndefined();
    expect(problems).toEqual([]);
  });
});
