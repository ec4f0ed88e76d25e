import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturingLog } from '../support/logs.js';
import { http, startServer, type TestServer } from '../support/server.js';
import { signUp } from '../support/users.js';

describe('logs carry no secrets', () => {
  let s: TestServer;
  const { log, lines } = capturingLog('trace');
  beforeAll(async () => {
    s = await startServer({ log, logger: true });
  });
  afterAll(async () => s?.close());

  it('no password, token, cookie or reset token appears in any log line of a whole session', async () => {
    const password = 'a very secret passphrase 42';
    await signUp(s, 'logs@example.com', password);
    await http(s.url, 'POST', '/v1/login', { json: { email: 'logs@example.com', password: 'wrong password here' } });
    const login = await http(s.url, 'POST', '/v1/login', { json: { email: 'logs@example.com', password } });
    const cookieLogin = await fetch(`${s.url}/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'logs@example.com', password, transport: 'cookie' }) });
    const cookies = cookieLogin.headers.getSetCookie().map((c) => c.split(';')[0]);
    await http(s.url, 'GET', '/v1/me', { headers: { authorization: `Bearer ${login.body.access_token}` } });
    await http(s.url, 'GET', '/v1/me', { headers: { cookie: cookies.join('; ') } });
    const refreshed = await http(s.url, 'POST', '/v1/token', { form: { grant_type: 'refresh_token', refresh_token: login.body.refresh_token } });
    await http(s.url, 'POST', '/v1/token', { form: { grant_type: 'refresh_token', refresh_token: login.body.refresh_token }, headers: { 'user-agent': 'thief' } });
    await http(s.url, 'GET', `/reset-password?token=secret-reset-token-value`);
    await http(s.url, 'POST', '/v1/password/reset', { json: { token: 'abc.secret-reset-token-value2', new_password: 'whatever new pass' } });

    const all = lines.join('\n');
    expect(lines.length).toBeGreaterThan(10);
    const secrets = [password, 'wrong password here', login.body.access_token, login.body.refresh_token, refreshed.body.access_token, 'secret-reset-token-value', ...cookies.map((c) => c.split('=')[1])];
    for (const secret of secrets) expect(all, `leaked ${secret.slice(0, 12)}…`).not.toContain(secret);
  });
});
