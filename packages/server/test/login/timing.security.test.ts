import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startServer, type TestServer } from '../support/server.js';
import { signUp } from '../support/users.js';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

describe('login timing does not reveal whether an account exists', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ env: { TESSERA_LOGIN_FAILURES_BEFORE_BACKOFF: '100' } });
    await signUp(s, 'frank@example.com', 'correct horse battery staple');
  });
  afterAll(async () => s?.close());

  it('median time for an unknown email is within 20% of a known email with a wrong password', async () => {
    const time = async (email: string) => {
      const t0 = process.hrtime.bigint();
      const r = await http(s.url, 'POST', '/v1/login', { json: { email, password: 'not the password at all' } });
      expect(r.status).toBe(401);
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    for (let i = 0; i < 3; i++) {
      await time('frank@example.com');
      await time(`warmup${i}@example.com`);
    }
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 25; i++) {
      known.push(await time('frank@example.com'));
      unknown.push(await time(`ghost${i}@example.com`));
    }
    const ratio = median(unknown) / median(known);
    expect(ratio).toBeGreaterThan(0.8);
    expect(ratio).toBeLessThan(1.2);
  });
});
