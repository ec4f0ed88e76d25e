import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasPostgres } from '../support/services.js';
import { http, startServer, type DbKind, type TestServer } from '../support/server.js';
import { CapturingMailer, from, login } from './support.js';
import { signUp } from '../support/users.js';

const PASSWORD = 'correct horse battery staple';

for (const db of ['sqlite', 'postgres'] as DbKind[]) describe.skipIf(db === 'postgres' && !hasPostgres)(`sibling reset links (${db})`, () => {
  const mailer = new CapturingMailer();
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ db, mailer, env: { TESSERA_TRUST_PROXY: 'loopback' } });
  });
  afterAll(async () => s?.close());

  async function twoLinks(email: string): Promise<[string, string]> {
    const links: string[] = [];
    for (let i = 0; i < 2; i++) {
      expect((await http(s.url, 'POST', '/v1/password/forgot', { json: { email }, headers: from('203.0.113.50') })).status).toBe(202);
      await expect.poll(() => mailer.sent.filter((m) => m.to === email && m.text.includes('/reset-password?token=')).length).toBe(i + 1);
      links.push(mailer.link(email, 'reset-password'));
    }
    expect(links[0]).not.toBe(links[1]);
    return [links[0], links[1]];
  }

  it('attack: link #2 is refused after link #1 reset the password', async () => {
    const email = 'sibling@example.com';
    await signUp(s, email, PASSWORD);
    const [first, second] = await twoLinks(email);
    const reset = await http(s.url, 'POST', '/v1/password/reset', { json: { token: first, new_password: 'a brand new passphrase 1' } });
    expect(reset.status).toBe(204);
    const sibling = await http(s.url, 'POST', '/v1/password/reset', { json: { token: second, new_password: 'the attacker passphrase 2' } });
    expect(sibling.status).toBe(400);
    expect(sibling.body.code).toBe('invalid_grant');
    expect((await login(s.url, email, 'a brand new passphrase 1', '203.0.113.50')).status).toBe(200);
  });

  it('attack: a reset link mailed before a password change is refused after it', async () => {
    const email = 'changer@example.com';
    await signUp(s, email, PASSWORD);
    expect((await http(s.url, 'POST', '/v1/password/forgot', { json: { email }, headers: from('203.0.113.51') })).status).toBe(202);
    await expect.poll(() => mailer.sent.some((m) => m.to === email && m.text.includes('/reset-password?token='))).toBe(true);
    const link = mailer.link(email, 'reset-password');
    const l = await login(s.url, email, PASSWORD, '203.0.113.51');
    expect(l.status).toBe(200);
    const change = await http(s.url, 'POST', '/v1/password/change', {
      json: { current_password: PASSWORD, new_password: 'a changed passphrase 3' },
      headers: { ...from('203.0.113.51'), authorization: `Bearer ${l.body.access_token}` },
    });
    expect(change.status).toBe(204);
    const stale = await http(s.url, 'POST', '/v1/password/reset', { json: { token: link, new_password: 'the attacker passphrase 4' } });
    expect(stale.status).toBe(400);
    expect(stale.body.code).toBe('invalid_grant');
  });
});
