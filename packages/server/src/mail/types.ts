import type { MailMessage } from '../core/notices/mailer.js';

export type { MailMessage, Mailer } from '../core/notices/mailer.js';

/** Header values with a line break would let a caller add headers (Bcc: …) to the message. */
export function assertSafeHeaders(msg: MailMessage): void {
  for (const [name, value] of [['to', msg.to], ['subject', msg.subject]] as const) {
    if (/[\r\n]/.test(value)) throw new TypeError(`mail: line break in ${name}`);
  }
  if (!/^[^\s@<>,;"]+@[^\s@<>,;"]+$/.test(msg.to)) throw new TypeError('mail: `to` must be one plain address');
}
