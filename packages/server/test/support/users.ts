/**
 * Create a user who can sign in, the way a person would: through the HTTP API, then the link in the
 * verification mail. Every test that needs an ordinary signed-up account goes through here, so a change to
 * the sign-up flow is made once. The mail is read wherever the server sent it: a capturing mailer, the
 * development outbox folder(s) of the data dir, or a real SMTP sink.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import type { MailMessage } from '../../src/mail/types.js';
import { http } from './server.js';
import { RUNNING_SINKS, mailText, type SmtpSink } from './smtp.js';

/** where a server's mail can be read */
export type Mailbox = { dataDir: string } | { dataDirs: string[] } | { smtp: SmtpSink } | { sent: MailMessage[] };

/** what signUp needs of a server: its URL, and its data dir or (in-process) mailer unless a mailbox is given */
export interface SignUpTarget {
  url: string;
  dataDir?: string;
  t?: { mailer: unknown; config?: { TESSERA_SMTP_URL?: string | undefined } };
}

function defaultMailbox(s: SignUpTarget): Mailbox {
  const mailer = s.t?.mailer as { sent?: MailMessage[] } | undefined;
  if (mailer && Array.isArray(mailer.sent)) return { sent: mailer.sent };
  // a server sending to an SMTP sink of this test process: read the sink
  const sink = s.t?.config?.TESSERA_SMTP_URL !== undefined ? RUNNING_SINKS.get(s.t.config.TESSERA_SMTP_URL) : undefined;
  if (sink) return { smtp: sink };
  if (s.dataDir) return { dataDir: s.dataDir };
  throw new Error('signUp: pass a mailbox (no data dir and no capturing mailer)');
}

/** every mail to `to` (as the server stores it: trimmed, NFKC, lower case), oldest first, as plain text */
async function mailsTo(box: Mailbox, address: string): Promise<string[]> {
  const to = address.normalize('NFKC').trim().toLowerCase();
  if ('sent' in box) return box.sent.filter((m) => m.to === to).map((m) => m.text);
  if ('smtp' in box) return box.smtp.mail.filter((m) => m.to.includes(to)).map((m) => mailText(m.raw));
  const dirs = 'dataDirs' in box ? box.dataDirs : [box.dataDir];
  const found: Array<{ name: string; text: string }> = [];
  for (const dir of dirs.map((d) => path.join(d, 'outbox'))) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.endsWith('.json') && !n.startsWith('sms-'))) {
      const m = JSON.parse(await readFile(path.join(dir, name), 'utf8')) as { to: string; text: string };
      if (m.to === to) found.push({ name, text: m.text });
    }
  }
  return found.sort((a, b) => (a.name < b.name ? -1 : 1)).map((m) => m.text);
}

/**
 * The token of the newest `{issuer}/<page>?token=…` link mailed to `to`, waiting for it to arrive (mail goes
 * out after the response). `skip`: how many such links to pass over (the first has index 0), for a later one.
 */
export async function mailedToken(box: Mailbox, to: string, page: string, opts: { skip?: number; timeoutMs?: number } = {}): Promise<string> {
  const re = new RegExp(`/${page}\\?token=([^\\s"&<]+)`);
  const until = Date.now() + (opts.timeoutMs ?? 5000);
  for (;;) {
    const tokens = (await mailsTo(box, to)).map((t) => re.exec(t)?.[1]).filter((t): t is string => t !== undefined);
    if (tokens.length > (opts.skip ?? 0)) return decodeURIComponent(tokens.at(-1)!);
    if (Date.now() > until) throw new Error(`no ${page} link mailed to ${to}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** how many `<page>` links `to` has been mailed so far */
export async function linkCount(box: Mailbox, to: string, page: string): Promise<number> {
  return (await mailsTo(box, to)).filter((t) => t.includes(`/${page}?token=`)).length;
}

/** how many mails `to` has received so far */
export async function mailCount(box: Mailbox, to: string): Promise<number> {
  return (await mailsTo(box, to)).length;
}

/** Follows the newest verification link mailed to `email`. */
export async function verifyEmail(s: SignUpTarget, email: string, mailbox: Mailbox = defaultMailbox(s)): Promise<void> {
  const token = await mailedToken(mailbox, email, 'verify-email');
  const res = await http(s.url, 'POST', '/v1/email/verify', { json: { token } });
  expect(res.status, JSON.stringify(res.body)).toBe(204);
}

/** Sign-up over HTTP (202), then the click on the link of the verification mail it sent: the account can sign in. */
export async function signUp(s: SignUpTarget, email: string, password: string, mailbox: Mailbox = defaultMailbox(s)): Promise<void> {
  const before = await linkCount(mailbox, email, 'verify-email');
  const res = await http(s.url, 'POST', '/v1/accounts', { json: { email, password } });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect(res.body).toEqual({ status: 'verification_sent' });
  const token = await mailedToken(mailbox, email, 'verify-email', { skip: before });
  const verified = await http(s.url, 'POST', '/v1/email/verify', { json: { token } });
  expect(verified.status, JSON.stringify(verified.body)).toBe(204);
}
