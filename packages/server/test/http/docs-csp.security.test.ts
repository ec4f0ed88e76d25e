import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launch, screenshot, watch } from '../support/browser.js';
import { startServer, type TestServer } from '../support/server.js';

describe.skipIf(!hasChromium)('/docs in Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    s = await startServer();
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  it('renders the operations under its Content-Security-Policy, with no violation', async () => {
    const context = await browser.newContext();
    const problems = await watch(context);
    const page = await context.newPage();
    await page.goto(`${s.url}/docs/`);
    await expect.poll(() => page.locator('.opblock-summary').count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(44);
    expect(await page.locator('.opblock-summary', { hasText: '/v1/login' }).first().textContent()).toContain('Sign in with email and password');
    await screenshot(page, 'docs');
    expect(problems).toEqual([]);
    // An injected inline script must not run: the policy has no 'unsafe-inline' for scripts.
    const ran = await page.evaluate(() => {
      const el = document.createElement('script');
      el.textContent = 'window.__injected = true';
      document.body.append(el);
      return (window as unknown as { __injected?: boolean }).__injected === true;
    });
    expect(ran).toBe(false);
    await context.close();
  });
});
