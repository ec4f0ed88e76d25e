/** Shared by the lockout attack tests: a capturing mailer and HTTP helpers for sign-in from a chosen address. */
import type { MailMessage, Mailer } from '../../src/mail/types.js';
import { http, type Res } from '../support/server.js';

export class CapturingMailer implements Mailer {
  readonly sent: MailMessage[] = [];
  send(msg: MailMessage): Promise<void> {
    this.sent.push(msg);
    return Promise.resolve();
  }
  /** the first `{issuer}/<page>?token=…` link in the last mail to `to` with that page */
  link(to: string, page: string): string {
    const re = new RegExp(`/${page}\\?token=([^\\s"&<]+)`);
    for (const m of [...this.sent].reverse()) {
      const hit = m.to === to ? re.exec(m.text) : null;
      if (hit?.[1]) return decodeURIComponent(hit[1]);
    }
    throw new Error(`no ${page} link mailed to ${to}`);
  }
}

/** the servers these tests start trust X-Forwarded-For from loopback, so each request picks its address */
export function from(ip: string): Record<string, string> {
  return { 'x-forwarded-for': ip, 'user-agent': 'lockout-test' };
}

export function login(url: string, email: string, password: string, ip: string): Promise<Res> {
  return http(url, 'POST', '/v1/login', { json: { email, password }, headers: from(ip) });
}
