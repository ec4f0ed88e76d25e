/**
 * Security review, item 14: passwords that pass a length rule and a breached list but fall to the first
 * guesses of any attacker (a season, a word or a year plus the symbols composition rules taught, the
 * service's name, the user's own email) are refused, and the message says why.
 */
import { describe, expect, it } from 'vitest';
import { checkPasswordPolicy } from '../../src/core/passwords.js';
import { http, startServer } from '../support/server.js';

const refusal = (password: string, email?: string): string => {
  try {
    checkPasswordPolicy(password, 8, email ? { email } : {});
    return 'accepted';
  } catch (err) {
    expect((err as { code?: string }).code).toBe('weak_password');
    return (err as { detail?: string }).detail ?? 'no detail';
  }
};

describe('password strength', () => {
  it('refuses the review\'s weak passwords, each with a reason', () => {
    for (const p of ['Password123!', 'Summer2024!', 'Welcome1!', 'P@ssw0rd2024', 'iloveyou99']) expect(refusal(p)).toMatch(/too easy to guess: it is a common password or close to one/);
    expect(refusal('tessera123')).toMatch(/built on "tessera"/);
    expect(refusal('T3ss3r@2024!')).toMatch(/built on "tessera"/);
  });

  it('refuses passwords built on the email: its local part or its domain', () => {
    expect(refusal('alice2024!', 'alice@example.com')).toMatch(/built on "alice"/);
    expect(refusal('Al1ce#1990', 'alice@example.com')).toMatch(/built on "alice"/);
    expect(refusal('Example#2024', 'bob@example.com')).toMatch(/built on "example"/);
    expect(refusal('bob.smith@corp.io', 'bob.smith@corp.io')).toMatch(/email/);
  });

  it('keeps accepting long passphrases, with or without those words inside', () => {
    for (const p of ['correct horse battery staple', 'a very secret passphrase 42', 'long enough pw 1', 'alice walks her tall dog at noon']) {
      expect(refusal(p, 'alice@example.com')).toBe('accepted');
    }
  });

  it('sign-up answers 400 weak_password with the reason', async () => {
    const s = await startServer();
    try {
      const r = await http(s.url, 'POST', '/v1/accounts', { json: { email: 'summer@example.com', password: 'Summer2024!' } });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ code: 'weak_password', detail: expect.stringMatching(/too easy to guess/) });
    } finally {
      await s.close();
    }
  });
});
