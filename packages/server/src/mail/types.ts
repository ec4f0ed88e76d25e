/**
 * The port security notices are sent through: their content is the core's (core/notices/templates.ts); the
 * adapters here only deliver it (SMTP, or the development outbox).
 */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export interface Mailer {
  send(msg: MailMessage): Promise<void>;
}

/** Header values with a line break would let a caller add headers (Bcc: …) to the message. */
export function assertSafeHeaders(msg: MailMessage): void {
  for (const [name, value] of [['to', msg.to], ['subject', msg.subject]] as const) {
    if (/[\r\n]/.test(value)) throw new TypeError(`mail: line break in ${name}`);
  }
  if (!/^[^\s@<>,;"]+@[^\s@<>,;"]+$/.test(msg.to)) throw new TypeError('mail: `to` must be one plain address');
}
