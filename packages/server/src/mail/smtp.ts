import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { assertSafeHeaders, type MailMessage, type Mailer } from './types.js';

/** Mail through an SMTP relay (TESSERA_SMTP_URL, `smtp://` or `smtps://`, credentials in the URL). */
export class SmtpMailer implements Mailer {
  private readonly transport: Transporter<SMTPTransport.SentMessageInfo>;

  constructor(url: string, private readonly from: string) {
    this.transport = nodemailer.createTransport(url, {
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
  }

  async send(msg: MailMessage): Promise<void> {
    assertSafeHeaders(msg);
    await this.transport.sendMail({ from: this.from, to: msg.to, subject: msg.subject, text: msg.text, html: msg.html });
  }

  close(): void {
    this.transport.close();
  }
}
