import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Sends a one-time code by SMS. No production sender ships with Tessera; plug a provider in here. */
export interface SmsSender {
  send(msg: { to: string; text: string }): Promise<void>;
}

/**
 * Development sender, the SMS twin of mail/outbox.ts: each message becomes `<dataDir>/outbox/sms-*.json`.
 * The log line names the number's last digits and the file, never the text: the code must not end up in
 * shipped logs.
 */
export class LoggingSmsSender implements SmsSender {
  readonly dir: string;
  private readonly log: (msg: string) => void;

  constructor(opts: { dataDir: string; log?: (msg: string) => void }) {
    this.dir = path.join(opts.dataDir, 'outbox');
    this.log = opts.log ?? (() => {});
  }

  async send(msg: { to: string; text: string }): Promise<void> {
    if (!/^\+?[0-9 ()-]{4,32}$/.test(msg.to)) throw new TypeError('sms: `to` must be a phone number');
    const at = new Date();
    const file = path.join(this.dir, `sms-${at.toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.json`);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFile(file, `${JSON.stringify({ to: msg.to, text: msg.text, date: at.toISOString() }, null, 2)}\n`, { mode: 0o600 });
    this.log(`SMS to …${msg.to.replace(/\D/g, '').slice(-2)} written to ${file}`);
  }
}
