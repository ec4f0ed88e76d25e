/** A real SMTP server (smtp-server) on 127.0.0.1 that keeps what it receives, for tests that read mail. */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

export interface SmtpSink {
  url: string;
  mail: ReceivedMail[];
  waitFor(pred: (m: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}

/** the sinks running in this process by URL, so a helper can read the mail of a server configured with one */
export const RUNNING_SINKS = new Map<string, SmtpSink>();

export async function startSmtpSink(): Promise<SmtpSink> {
  const mail: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mail.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  const sink: SmtpSink = {
    url: `smtp://127.0.0.1:${port}`,
    mail,
    async waitFor(pred, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const found = mail.find(pred);
        if (found) return found;
        if (Date.now() > until) throw new Error('no matching mail arrived');
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close: () => {
      RUNNING_SINKS.delete(sink.url);
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  RUNNING_SINKS.set(sink.url, sink);
  return sink;
}

/** The decoded text of a quoted-printable or plain mail body, good enough to find a link or a code. */
export function mailText(raw: string): string {
  return raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}
