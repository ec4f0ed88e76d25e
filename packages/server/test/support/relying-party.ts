/** A test relying party: a callback page, a post-logout page and a back-channel logout endpoint that records tokens. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import type { TOTP } from 'otpauth';
import { PASSWORD } from './browser.js';

export interface RelyingParty {
  url: string;
  callback: string;
  loggedOut: string;
  backchannel: string;
  logoutTokens: string[];
  close(): Promise<void>;
}

export async function startRelyingParty(): Promise<RelyingParty> {
  const logoutTokens: string[] = [];
  const server = http.createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/backchannel') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const token = new URLSearchParams(body).get('logout_token');
        if (token) logoutTokens.push(token);
        res.writeHead(200).end();
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>rp</title><p>relying party</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    callback: `${url}/callback`,
    loggedOut: `${url}/logged-out`,
    backchannel: `${url}/backchannel`,
    logoutTokens,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Opens an authorization URL in a fresh browser context and signs in on Tessera's real pages with the
 * password and then a TOTP code (the next time step: the current one was spent enrolling); returns the
 * page at the RP's callback.
 */
export async function signInThroughPages(browser: Browser, authUrl: string, email: string, totp: TOTP, callback: string, beforeCallback?: (page: Page) => Promise<void>): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(authUrl);
  await page.waitForURL(/\/sign-in\?next=%2Foauth%2Fauthorize/);
  await page.fill('form[data-form="sign-in"] input[name="email"]', email);
  await page.fill('form[data-form="sign-in"] input[name="password"]', PASSWORD);
  await page.click('form[data-form="sign-in"] button[type="submit"]');
  await expect.poll(() => page.isVisible('form[data-form="mfa"]')).toBe(true);
  await page.selectOption('form[data-form="mfa"] select[name="method"]', 'totp');
  await page.fill('form[data-form="mfa"] input[name="code"]', totp.generate({ timestamp: Date.now() + 30_000 }));
  await page.click('form[data-form="mfa"] button[type="submit"]');
  if (beforeCallback) await beforeCallback(page);
  await page.waitForURL((u) => u.href.startsWith(callback));
  return page;
}
