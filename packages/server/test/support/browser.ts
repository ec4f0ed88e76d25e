/** Headless Chromium for the page tests: launch options, page watchers, and the sign-in steps. */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { REQUIRE_SERVICES } from './services.js';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && REQUIRE_SERVICES) throw new Error(`${CHROMIUM} is required (TESSERA_TEST_REQUIRE_SERVICES=1) but missing`);
if (!hasChromium) console.warn(`skipping browser page tests: ${CHROMIUM} missing (apt-get install -y chromium)`);

export const PASSWORD = 'correct horse battery staple';
export const RESULTS_DIR = fileURLToPath(new URL('../../../../test-results/pages/', import.meta.url));

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Console errors, uncaught exceptions and CSP violations of every page in a context. */
export async function watch(context: BrowserContext): Promise<string[]> {
  const problems: string[] = [];
  // Init scripts run through DevTools, outside the page's CSP: this listener is not itself a violation.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  context.on('page', (page) => {
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`${page.url()}: ${err.message}`));
  });
  return problems;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const vp = page.viewportSize();
  await page.screenshot({ path: path.join(RESULTS_DIR, `${name}-${vp?.width ?? 0}.png`), fullPage: true });
}

/** The password step through the page; leaves the page at the account page, or at the second step. */
export async function signIn(page: Page, base: string, email: string, opts: { expectMfa?: boolean } = {}): Promise<void> {
  await page.goto(`${base}/sign-in`);
  await page.fill('form[data-form="sign-in"] input[name="email"]', email);
  await page.fill('form[data-form="sign-in"] input[name="password"]', PASSWORD);
  await page.click('form[data-form="sign-in"] button[type="submit"]');
  if (opts.expectMfa) await expect.poll(() => page.isVisible('form[data-form="mfa"]')).toBe(true);
  else {
    await page.waitForURL(`${base}/account`);
    // A key-bound session's page arrives in place after its shell (pages.js openBound): wait for it, so no
    // request of the page is still in flight when a test moves the server's clock.
    await page.waitForSelector('body[data-page="account"]');
  }
}
