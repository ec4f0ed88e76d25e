import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { TesseraError } from '../../src/core/errors.js';
import { ipKey, limitOrThrow, LoginGuard, RequestLimiter, type LoginGuardConfig } from '../../src/core/limits.js';
import { MemoryState } from '../../src/state/memory.js';
import { RedisState } from '../../src/state/redis.js';
import type { SharedState } from '../../src/state/types.js';
import { hasRedis, REDIS_URL } from '../support/services.js';

const cfg: LoginGuardConfig = { perIpPer15Min: 100, failuresBeforeBackoff: 5, accountFailuresPerDay: 100 };

async function refusal(p: Promise<unknown>): Promise<TesseraError | null> {
  try {
    await p;
    return null;
  } catch (err) {
    if (err instanceof TesseraError) return err;
    throw err;
  }
}

/** one wrong-password attempt as the login route will run it; returns the 429 or null */
async function wrongLogin(guard: LoginGuard, ip: string, account: string): Promise<TesseraError | null> {
  const refused = await refusal(guard.check({ ip, account }));
  if (!refused) await guard.recordFailure({ ip, account });
  return refused;
}

function suite(name: string, open: () => Promise<[SharedState, SharedState]>) {
  describe(`LoginGuard on ${name}`, () => {
    const opened: SharedState[] = [];
    const fresh = async () => {
      const pair = await open();
      opened.push(...pair);
      return pair;
    };
    afterAll(async () => {
      for (const s of new Set(opened)) await s.close();
    });

    it('attack: credential stuffing of 200 accounts from one IP hits 429 at the per-IP cap', async () => {
      const [state] = await fresh();
      const guard = new LoginGuard(state, cfg);
      const results: (TesseraError | null)[] = [];
      for (let i = 0; i < 200; i++) results.push(await wrongLogin(guard, '203.0.113.5', `victim${i}@example.com`));
      expect(results.findIndex((r) => r !== null)).toBe(100);
      const err = results[150]!;
      expect(err.code).toBe('rate_limited');
      expect(err.status).toBe(429);
      expect(err.headers['RateLimit-Limit']).toBe('100');
      expect(err.headers['RateLimit-Remaining']).toBe('0');
      expect(Number(err.headers['Retry-After'])).toBeGreaterThanOrEqual(1);
      expect(Number(err.headers['Retry-After'])).toBeLessThanOrEqual(900);
      // another IP is not affected
      expect(await wrongLogin(guard, '198.51.100.1', 'victim1@example.com')).toBeNull();
    });

    it('attack: 10 wrong passwords for one account from one IP get 429 with a growing Retry-After', async () => {
      const [state] = await fresh();
      const guard = new LoginGuard(state, cfg);
      const results: (TesseraError | null)[] = [];
      for (let i = 0; i < 10; i++) results.push(await wrongLogin(guard, '203.0.113.9', 'alice@example.com'));
      // five free attempts, then the first of the 1 s window
      expect(results.slice(0, 6)).toEqual([null, null, null, null, null, null]);
      const waits = results.slice(6).map((r) => Number(r?.headers['Retry-After']));
      expect(waits).toEqual([2, 4, 8, 16]);
      expect(results[9]!.code).toBe('rate_limited');

      // one attacker cannot lock the victim out from everywhere: the victim's own address still works
      expect(await refusal(guard.check({ ip: '198.51.100.20', account: 'alice@example.com' }))).toBeNull();
    });

    it('the backoff is capped', async () => {
      const [state] = await fresh();
      const guard = new LoginGuard(state, { ...cfg, maxBackoffSec: 10 });
      let last: TesseraError | null = null;
      for (let i = 0; i < 20; i++) last = (await wrongLogin(guard, '203.0.113.10', 'bob@example.com')) ?? last;
      expect(Number(last?.headers['Retry-After'])).toBeLessThanOrEqual(10);
    });

    it('success resets the consecutive-failure count of that account and IP', async () => {
      const [state] = await fresh();
      const guard = new LoginGuard(state, cfg);
      const key = { ip: '203.0.113.11', account: 'carol@example.com' };
      for (let i = 0; i < 5; i++) expect(await wrongLogin(guard, key.ip, key.account)).toBeNull();
      await guard.check(key);
      await guard.recordSuccess(key);
      for (let i = 0; i < 6; i++) expect(await wrongLogin(guard, key.ip, key.account)).toBeNull();
      expect(await wrongLogin(guard, key.ip, key.account)).not.toBeNull();
    });

    it('attack: a concurrent burst of guesses cannot exceed the attempt budget', async () => {
      const [a, b] = await fresh();
      const guards = [new LoginGuard(a, cfg), new LoginGuard(b, cfg)];
      const key = { ip: '203.0.113.12', account: 'dave@example.com' };
      const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => guards[i % 2].check(key)));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(cfg.failuresBeforeBackoff + 1);
    });

    it('the per-account daily cap spares addresses the user signed in from, and unlock lifts it', async () => {
      const [state] = await fresh();
      const guard = new LoginGuard(state, { ...cfg, accountFailuresPerDay: 20 });
      const account = 'erin@example.com';
      await guard.check({ ip: '198.51.100.77', account });
      await guard.recordSuccess({ ip: '198.51.100.77', account });
      await new Promise((r) => setTimeout(r, 20)); // the marker must outlive the event loop turn
      // a botnet: one failure each from many addresses
      for (let i = 0; i < 20; i++) expect(await wrongLogin(guard, `192.0.2.${i + 1}`, account)).toBeNull();
      const refused = await refusal(guard.check({ ip: '192.0.2.200', account }));
      expect(refused?.code).toBe('rate_limited');
      expect(refused?.headers['RateLimit-Limit']).toBe('20');
      // the owner, from an address they signed in from, is not locked out
      expect(await refusal(guard.check({ ip: '198.51.100.77', account }))).toBeNull();
      await guard.unlock(account);
      expect(await refusal(guard.check({ ip: '192.0.2.201', account }))).toBeNull();
    });

    it('unlock clears the backoff of every address', async () => {
      const [state] = await fresh();
      const guard = new LoginGuard(state, cfg);
      const account = 'frank@example.com';
      for (let i = 0; i < 8; i++) await wrongLogin(guard, '203.0.113.13', account);
      expect(await refusal(guard.check({ ip: '203.0.113.13', account }))).not.toBeNull();
      await guard.unlock(account);
      expect(await refusal(guard.check({ ip: '203.0.113.13', account }))).toBeNull();
    });

    it('optional per-IP daily failure cap', async () => {
      const [state] = await fresh();
      const guard = new LoginGuard(state, { ...cfg, ipFailuresPerDay: 3 });
      for (let i = 0; i < 3; i++) expect(await wrongLogin(guard, '203.0.113.14', `u${i}@example.com`)).toBeNull();
      expect((await wrongLogin(guard, '203.0.113.14', 'u9@example.com'))?.code).toBe('rate_limited');
    });

    it('attack: rotating addresses inside one IPv6 /64 shares one budget', async () => {
      const [state] = await fresh();
      const guard = new LoginGuard(state, { ...cfg, perIpPer15Min: 3 });
      for (let i = 1; i <= 3; i++) expect(await wrongLogin(guard, `2001:db8:1:2::${i}`, `x${i}@example.com`)).toBeNull();
      expect(await wrongLogin(guard, '2001:db8:1:2:ffff::9', 'y@example.com')).not.toBeNull();
      expect(await wrongLogin(guard, '2001:db8:1:3::1', 'y@example.com')).toBeNull();
    });

    it('RequestLimiter: per-IP requests per second with RateLimit headers', async () => {
      const [a, b] = await fresh();
      const la = new RequestLimiter(a, 4);
      const lb = new RequestLimiter(b, 4);
      const ok = [];
      for (let i = 0; i < 4; i++) ok.push(await (i % 2 ? lb : la).consume('203.0.113.15'));
      expect(ok.map((r) => r.headers['RateLimit-Remaining'])).toEqual(['3', '2', '1', '0']);
      expect(ok[0].headers['RateLimit-Limit']).toBe('4');
      expect(ok[0].headers['Retry-After']).toBeUndefined();
      const refused = await refusal(la.consume('203.0.113.15'));
      expect(refused?.code).toBe('rate_limited');
      expect(refused?.headers['Retry-After']).toBe('1');
    });

    it('limitOrThrow: one code path for other limits (MFA, forgot password, sign-up)', async () => {
      const [state] = await fresh();
      const mfa = state.limiter({ keyPrefix: `mfa-${randomUUID()}`, points: 2, durationSec: 300 });
      await limitOrThrow(mfa, 'session-1');
      await limitOrThrow(mfa, 'session-1');
      const refused = await refusal(limitOrThrow(mfa, 'session-1'));
      expect(refused?.status).toBe(429);
      expect(Number(refused?.headers['Retry-After'])).toBeGreaterThan(290);
      expect(refused?.headers['RateLimit-Reset']).toBe(refused?.headers['Retry-After']);
    });
  });
}

suite('memory', async () => {
  const s = new MemoryState();
  return [s, s];
});

describe.skipIf(!hasRedis)('on Redis', () => {
  const prefixes: string[] = [];
  afterAll(async () => {
    const s = new RedisState(REDIS_URL);
    await s.connect();
    const raw = (s as unknown as { client: { keys(p: string): Promise<string[]>; del(...k: string[]): Promise<number> } }).client;
    for (const prefix of prefixes) {
      const keys = await raw.keys(`${prefix}*`);
      if (keys.length) await raw.del(...keys);
    }
    await s.close();
  });
  suite('Redis (two nodes)', async () => {
    const prefix = `tessera-test:${randomUUID()}:`;
    prefixes.push(prefix);
    const a = new RedisState(REDIS_URL, { prefix });
    const b = new RedisState(REDIS_URL, { prefix });
    await a.connect();
    await b.connect();
    return [a, b];
  });
});

describe('ipKey', () => {
  it('keys IPv4 by address and IPv6 by /64', () => {
    expect(ipKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(ipKey('2001:db8:a:b:c:d:e:f')).toBe('2001:db8:a:b::/64');
    expect(ipKey('not-an-ip')).toBe('not-an-ip');
  });
});
