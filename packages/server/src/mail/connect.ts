import { OutboxMailer } from './outbox.js';
import { SmtpMailer } from './smtp.js';
import type { Mailer } from './types.js';

/** SMTP when TESSERA_SMTP_URL is set, else the outbox folder and one log line per message. */
export function openMailer(cfg: { smtpUrl?: string; from: string; dataDir: string; log?: (msg: string) => void; logLinks?: boolean }): Mailer {
  if (cfg.smtpUrl) return new SmtpMailer(cfg.smtpUrl, cfg.from);
  return new OutboxMailer({ dataDir: cfg.dataDir, from: cfg.from, ...(cfg.log ? { log: cfg.log } : {}), ...(cfg.logLinks ? { logLinks: true } : {}) });
}
