import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startServer, type Res, type TestServer } from '../support/server.js';
import { from, login } from './support.js';
import { signUp } from '../support/users.js';

const PASSWORD = 'correct horse battery staple';

describe('POST /v1/password/change through the login guard (issue 17 item 4)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ env: { TESSERA_TRUST_PROXY: 'loopback' } });
  });
  afterAll(async () => s?.close());

  async function signedIn(email: string, ip: string): Promise<string> {
    await signUp(s, email, PASSWORD);
    const l = await login(s.url, email, PASSWORD, ip);
    expect(l.status).toBe(200);
    return l.body.access_token as string;
  }

  function change(token: string, ip: string, current: string): Promise<Res> {
    return http(s.url, 'POST', '/v1/password/change', {
      json: { current_password: current, new_password: 'an entirely new passphrase' },
      headers: { ...from(ip), authorization: `Bearer ${token}` },
    });
  }

  it('attack: a burst of wrong current passwords from one session is refused with 429 and recorded', async () => {
    const ip = '203.0.113.60';
    const token = await signedIn('guessed@example.com', ip);
    const statuses: number[] = [];
    let limited: Res | undefined;
    for (let i = 0; i < 12; i++) {
      const r = await change(token, ip, `wrong guess number ${i}`);
      statuses.push(r.status);
      if (r.status === 429) limited ??= r;
    }
    // the first guesses are merely wrong; then the guard refuses before checking anything
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(limited?.body.code).toBe('rate_limited');
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((x) => x === 401).length).toBeLessThanOrEqual(6);
    // the correct password is refused as well while the limit holds: the guesses gained nothing
    expect((await change(token, ip, PASSWORD)).status).toBe(429);
    const events = await http(s.url, 'GET', '/v1/events', { headers: { ...from(ip), authorization: `Bearer ${token}` } });
    const failed = (events.body as Array<{ type: string }>).filter((e) => e.type === 'password_change_failed');
    expect(failed.length).toBe(statuses.filter((x) => x === 401).length);
  });

  it('attack: spreading the guesses over many addresses still meets the per-user limit', async () => {
    const token = await signedIn('spread@example.com', '203.0.113.61');
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) statuses.push((await change(token, `198.51.100.${i + 1}`, `wrong guess number ${i}`)).status);
    expect(statuses.slice(0, 10).every((x) => x === 401)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429, 429, 429]);
  });
});
