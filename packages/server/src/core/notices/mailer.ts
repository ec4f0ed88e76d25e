/**
 * The port core sends security notices through: the content (core/notices/templates.ts) is the core's,
 * the adapters under mail/ only deliver it (SMTP, or the development outbox).
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
