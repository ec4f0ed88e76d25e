/**
 * Sign-up answers before its mail is sent (the mail's duration must not tell a taken address from a free
 * one); a node stopped right after the 202 still delivers that mail before its mailer closes.
 */
import { describe, expect, it } from 'vitest';
import type { MailMessage, Mailer } from '../../src/mail/types.js';
import { http, startServer } from '../support/server.js';

class SlowMailer implements Mailer {
  readonly sent: MailMessage[] = [];
  async send(msg: MailMessage): Promise<void> {
    await new Promise((r) => setTimeout(r, 300));
    this.sent.push(msg);
  }
}

describe('mail queued after a response', () => {
  it('is delivered when the node stops right after the 202', async () => {
    const mailer = new SlowMailer();
    const s = await startServer({ mailer });
    const res = await http(s.url, 'POST', '/v1/accounts', { json: { email: 'late@example.com', password: 'correct horse battery staple' } });
    expect(res.status).toBe(202);
    expect(mailer.sent).toHaveLength(0);
    await s.close();
    expect(mailer.sent.map((m) => m.to)).toEqual(['late@example.com']);
  });
});
