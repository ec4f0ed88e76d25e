import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { assertSafeHeaders, type MailMessage, type Mailer } from './types.js';

/**
 * Development mail: each message becomes `<dataDir>/outbox/<time>-<id>.eml` (open it in a mail client)
 * plus a `.json` twin (for scripts and tests). The log line names the file but never the body, where the
 * reset links and codes are: logs are shipped and kept far more widely than a data folder. The one
 * exception is local development (`logLinks`, set for a loopback issuer): there the line also carries the
 * mail's links, so the quick start's verification link is one click in the terminal.
 */
export class OutboxMailer implements Mailer {
  readonly dir: string;
  private readonly from: string;
  private readonly log: (msg: string) => void;
  private readonly logLinks: boolean;
  private readonly composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });

  constructor(opts: { dataDir: string; from: string; log?: (msg: string) => void; logLinks?: boolean }) {
    this.dir = path.join(opts.dataDir, 'outbox');
    this.from = opts.from;
    this.log = opts.log ?? (() => {});
    this.logLinks = opts.logLinks ?? false;
  }

  async send(msg: MailMessage): Promise<void> {
    assertSafeHeaders(msg);
    const info = await this.composer.sendMail({ from: this.from, to: msg.to, subject: msg.subject, text: msg.text, html: msg.html });
    const eml = info.message as Buffer;
    const at = new Date();
    const name = `${at.toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}`;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const json = { from: this.from, to: msg.to, subject: msg.subject, text: msg.text, html: msg.html ?? null, date: at.toISOString() };
    await writeFile(path.join(this.dir, `${name}.eml`), eml, { mode: 0o600 });
    await writeFile(path.join(this.dir, `${name}.json`), `${JSON.stringify(json, null, 2)}\n`, { mode: 0o600 });
    const links = this.logLinks ? [...new Set(msg.text.match(/https?:\/\/\S+/g) ?? [])] : [];
    this.log(`mail to ${msg.to} (${JSON.stringify(msg.subject)}) written to ${path.join(this.dir, `${name}.eml`)}${links.length > 0 ? ` — links: ${links.join(' ')}` : ''}`);
  }
}
