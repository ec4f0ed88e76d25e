import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../support/smtp.js';
import { openMailer } from '../../src/mail/connect.js';
import { OutboxMailer } from '../../src/mail/outbox.js';
import { verifyEmailMail } from '../../src/core/notices/verification.js';
import { SmtpMailer } from '../../src/mail/smtp.js';
import { emailOtpMail, escapeHtml, formatPlace, newSignInMail, passwordResetMail, securityAlertMail } from '../../src/core/notices/templates.js';

const FROM = 'Tessera <no-reply@tessera.test>';
const AT = Date.UTC(2026, 0, 1, 12, 30);

describe('SMTP mailer against a real SMTP server', () => {
  let sink: SmtpSink;
  let received: ReceivedMail[];
  let url: string;

  beforeAll(async () => {
    sink = await startSmtpSink();
    received = sink.mail;
    url = sink.url;
  });

  afterAll(async () => sink.close());

  it('delivers a message with text and html parts', async () => {
    const mailer = openMailer({ smtpUrl: url, from: FROM, dataDir: '/nonexistent' });
    expect(mailer).toBeInstanceOf(SmtpMailer);
    const mail = passwordResetMail({ link: 'https://auth.example.com/reset-password?token=abc.def', expiresInMinutes: 30 });
    await mailer.send({ to: 'alice@example.com', ...mail });
    (mailer as SmtpMailer).close();
    expect(received).toHaveLength(1);
    expect(received[0].from).toBe('no-reply@tessera.test');
    expect(received[0].to).toEqual(['alice@example.com']);
    expect(received[0].raw).toContain('Subject: Reset your Tessera password');
    expect(received[0].raw).toContain('text/plain');
    expect(received[0].raw).toContain('text/html');
    expect(received[0].raw).toContain('token=3Dabc.def'); // quoted-printable "="
  });

  it('attack: header injection through the recipient or subject is refused', async () => {
    const mailer = new SmtpMailer(url, FROM);
    await expect(mailer.send({ to: 'a@example.com\r\nBcc: evil@example.com', subject: 's', text: 't' })).rejects.toBeInstanceOf(TypeError);
    await expect(mailer.send({ to: 'a@example.com', subject: 'hi\nBcc: evil@example.com', text: 't' })).rejects.toBeInstanceOf(TypeError);
    await expect(mailer.send({ to: 'a@example.com, evil@example.com', subject: 's', text: 't' })).rejects.toBeInstanceOf(TypeError);
    mailer.close();
  });
});

describe('outbox mailer', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-outbox-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes .eml and .json per message and logs one line without the secret', async () => {
    const logs: string[] = [];
    const mailer = openMailer({ from: FROM, dataDir: dir, log: (m) => logs.push(m) });
    expect(mailer).toBeInstanceOf(OutboxMailer);
    const mail = emailOtpMail({ code: '493817', expiresInMinutes: 10 });
    await mailer.send({ to: 'bob@example.com', ...mail });

    const files = (await readdir(path.join(dir, 'outbox'))).sort();
    expect(files.filter((f) => f.endsWith('.eml'))).toHaveLength(1);
    expect(files.filter((f) => f.endsWith('.json'))).toHaveLength(1);
    const json = JSON.parse(await readFile(path.join(dir, 'outbox', files.find((f) => f.endsWith('.json'))!), 'utf8'));
    expect(json).toMatchObject({ to: 'bob@example.com', subject: 'Your Tessera sign-in code' });
    expect(json.text).toContain('493817');
    const eml = await readFile(path.join(dir, 'outbox', files.find((f) => f.endsWith('.eml'))!), 'utf8');
    expect(eml).toContain('To: bob@example.com');
    expect(eml).toContain('493817');
    expect((await stat(path.join(dir, 'outbox', files[0]))).mode & 0o077).toBe(0);

    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain('bob@example.com');
    expect(logs[0]).not.toContain('493817');
  });

  it('links reach the log only in local development (logLinks), so the quick start is one click', async () => {
    const link = 'http://localhost:3000/verify-email?token=abc.secretpart';
    const quiet: string[] = [];
    await openMailer({ from: FROM, dataDir: dir, log: (m) => quiet.push(m) }).send({ to: 'cy@example.com', ...verifyEmailMail({ link, expiresInHours: 24 }) });
    expect(quiet.join('\n')).not.toContain('secretpart');
    const local: string[] = [];
    await openMailer({ from: FROM, dataDir: dir, log: (m) => local.push(m), logLinks: true }).send({ to: 'cy@example.com', ...verifyEmailMail({ link, expiresInHours: 24 }) });
    expect(local).toHaveLength(1);
    expect(local[0]).toContain(link);
  });
});

describe('templates', () => {
  it('password reset: link in text and html, expiry stated, secret not in the subject', () => {
    const link = 'https://auth.example.com/reset-password?token=id.secret&x=1';
    const m = passwordResetMail({ link, expiresInMinutes: 30 });
    expect(m.text).toContain(link);
    expect(m.text).toContain('30 minutes');
    expect(m.html).toContain('href="https://auth.example.com/reset-password?token=id.secret&amp;x=1"');
    expect(m.subject).not.toContain('secret');
  });

  it('attack: a javascript: link is refused', () => {
    expect(() => passwordResetMail({ link: 'javascript:alert(1)', expiresInMinutes: 30 })).toThrow(TypeError);
  });

  it('security alert names place and time and tells the user what happened and what to do', () => {
    const m = securityAlertMail({ event: 'impossible_travel', place: formatPlace({ city: 'Sydney', country: 'AU' }), at: AT, ip: '1.1.1.1', resetLink: 'https://auth.example.com/forgot-password' });
    expect(m.text).toContain('Sydney, AU');
    expect(m.text).toContain('2026-01-01 12:30 UTC');
    expect(m.text).toMatch(/signed out/);
    expect(m.text).toMatch(/reset your password/i);
    expect(m.html).toContain('href="https://auth.example.com/forgot-password"');
    const anomaly = securityAlertMail({ event: 'session_anomaly', place: null, at: AT, ip: null, device: 'Firefox on Linux' });
    expect(anomaly.text).toContain('Firefox on Linux');
    expect(anomaly.text).toContain('an unknown place');
  });

  it('attack: request-controlled values cannot inject markup', () => {
    const m = newSignInMail({ place: '<img src=x onerror=alert(1)>', at: AT, ip: '203.0.113.1', device: '<a href="https://evil.example">click</a>' });
    expect(m.html).not.toContain('<img');
    expect(m.html).not.toContain('<a href="https://evil.example"');
    expect(m.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(m.text).toContain('When: 2026-01-01 12:30 UTC');
  });

  it('email OTP shows the code', () => {
    const m = emailOtpMail({ code: '123456', expiresInMinutes: 10 });
    expect(m.text).toContain('123456');
    expect(m.html).toContain('123456');
    expect(m.subject).not.toContain('123456');
  });

  it('escapeHtml and formatPlace', () => {
    expect(escapeHtml(`<"'&>`)).toBe('&lt;&quot;&#39;&amp;&gt;');
    expect(formatPlace({ city: null, country: 'GB' })).toBe('GB');
    expect(formatPlace(null)).toBeNull();
  });
});
