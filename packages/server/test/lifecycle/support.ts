/** A server with a real SMTP sink, and the few steps the lifecycle tests repeat. */
import { expect } from 'vitest';
import { mailText, startSmtpSink, type ReceivedMail, type SmtpSink } from '../support/smtp.js';
import { http, startServer, type TestServer } from '../support/server.js';

export const PASSWORD = 'correct horse battery staple';
export const bearer = (at: string) => ({ authorization: `Bearer ${at}` });

export interface MailServer {
  s: TestServer;
  sink: SmtpSink;
  close(): Promise<void>;
}

export async function startWithMail(env: Record<string, string> = {}, opts: Parameters<typeof startServer>[0] = {}): Promise<MailServer> {
  const sink = await startSmtpSink();
  const s = await startServer({ ...opts, env: { TESSERA_SMTP_URL: sink.url, ...env } });
  return {
    s,
    sink,
    async close() {
      await s.close();
      await sink.close();
    },
  };
}

export async function login(s: TestServer, email: string, password = PASSWORD): Promise<{ access_token: string; refresh_token: string; session_id: string }> {
  const l = await http(s.url, 'POST', '/v1/login', { json: { email, password } });
  expect(l.status, JSON.stringify(l.body)).toBe(200);
  return l.body as { access_token: string; refresh_token: string; session_id: string };
}

/** the mail to `to` whose text contains `needle` */
export const mailTo = (sink: SmtpSink, to: string, needle: string | RegExp): Promise<ReceivedMail> =>
  sink.waitFor((m) => m.to.includes(to) && (typeof needle === 'string' ? mailText(m.raw).includes(needle) : needle.test(mailText(m.raw))));

export function linkToken(m: ReceivedMail, page: string): string {
  const found = new RegExp(`${page}\\?token=([A-Za-z0-9._~%-]+)`).exec(mailText(m.raw));
  if (!found?.[1]) throw new Error(`no ${page} link in the mail`);
  return decodeURIComponent(found[1]);
}
