import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { FakeClock } from '../../src/lib/clock.js';
import { openState } from '../../src/state/connect.js';
import { MemoryState } from '../../src/state/memory.js';
import { RedisState } from '../../src/state/redis.js';
import type { SharedState } from '../../src/state/types.js';
import { hasRedis, REDIS_URL } from '../support/services.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function nextMessage(state: SharedState, channel: string): Promise<{ message: Promise<string>; stop: () => Promise<void> }> {
  let resolve!: (m: string) => void;
  const message = new Promise<string>((r) => (resolve = r));
  return state.subscribe(channel, resolve).then((stop) => ({ message, stop }));
}

function withTimeout<T>(p: Promise<T>, ms = 2000): Promise<T | 'timeout'> {
  return Promise.race([p, sleep(ms).then(() => 'timeout' as const)]);
}

/** Two "nodes" on the same shared state (for memory: the same instance). */
function conformance(name: string, open: () => Promise<[SharedState, SharedState]>) {
  describe(`SharedState conformance: ${name}`, () => {
    let a: SharedState;
    let b: SharedState;
    beforeAll(async () => {
      [a, b] = await open();
    });
    afterAll(async () => {
      await a.close();
      if (b !== a) await b.close();
    });

    it('ping answers', async () => {
      await expect(a.ping()).resolves.toBeUndefined();
    });

    it('claimOnce: a concurrent burst across nodes has exactly one winner', async () => {
      const key = `jti-${randomUUID()}`;
      const results = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).claimOnce(key, 10_000)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await a.claimOnce(`other-${randomUUID()}`, 10_000)).toBe(true);
    });

    it('claimOnce: the claim expires after its TTL', async () => {
      const key = `ttl-${randomUUID()}`;
      expect(await a.claimOnce(key, 60)).toBe(true);
      expect(await b.claimOnce(key, 60)).toBe(false);
      await sleep(200);
      expect(await b.claimOnce(key, 60)).toBe(true);
    });

    it('claimOnce: refuses a non-positive TTL (a claim that never expires or never holds)', async () => {
      await expect(a.claimOnce('x', 0)).rejects.toBeInstanceOf(TypeError);
    });

    it('pub/sub: a message published on one node reaches subscribers on the other', async () => {
      const channel = `rev-${randomUUID()}`;
      const sub = await nextMessage(b, channel);
      await a.publish(channel, 'sid-1');
      expect(await withTimeout(sub.message)).toBe('sid-1');
      await sub.stop();
    });

    it('pub/sub: unsubscribe stops delivery, other subscribers keep theirs', async () => {
      const channel = `rev-${randomUUID()}`;
      const got: string[] = [];
      const stop1 = await b.subscribe(channel, (m) => got.push(`1:${m}`));
      const second = await nextMessage(b, channel);
      await stop1();
      await a.publish(channel, 'x');
      expect(await withTimeout(second.message)).toBe('x');
      expect(got).toEqual([]);
      await second.stop();
    });

    it('pub/sub: a throwing handler does not break delivery to others', async () => {
      const channel = `rev-${randomUUID()}`;
      const stopBad = await b.subscribe(channel, () => {
        throw new Error('boom');
      });
      const good = await nextMessage(b, channel);
      await a.publish(channel, 'y');
      expect(await withTimeout(good.message)).toBe('y');
      await stopBad();
      await good.stop();
    });

    it('limiter: counts add up across nodes and the key is blocked', async () => {
      const opts = { keyPrefix: `t-${randomUUID()}`, points: 5, durationSec: 60, blockDurationSec: 120 };
      const la = a.limiter(opts);
      const lb = b.limiter(opts);
      await la.consume('1.2.3.4', 3);
      const r = await lb.consume('1.2.3.4', 2);
      expect(r.remainingPoints).toBe(0);
      const rejected: unknown = await la.consume('1.2.3.4').catch((e: unknown) => e);
      expect(rejected).toBeInstanceOf(RateLimiterRes);
      expect((rejected as RateLimiterRes).msBeforeNext).toBeGreaterThan(60_000); // the block, not the window
      await expect(lb.consume('1.2.3.4')).rejects.toBeInstanceOf(RateLimiterRes);
      // another key is unaffected
      await expect(lb.consume('5.6.7.8')).resolves.toBeInstanceOf(RateLimiterRes);
    });

    it('limiter: block and delete are shared', async () => {
      const opts = { keyPrefix: `t-${randomUUID()}`, points: 1, durationSec: 60 };
      await a.limiter(opts).block('acct', 30);
      const seen = await b.limiter(opts).get('acct');
      expect(seen?.consumedPoints).toBeGreaterThan(1);
      await b.limiter(opts).delete('acct');
      expect(await a.limiter(opts).get('acct')).toBeNull();
    });
  });
}

conformance('memory', async () => {
  const s = new MemoryState();
  return [s, s];
});

describe('MemoryState', () => {
  it('expires claims on the injected clock', async () => {
    const clock = new FakeClock();
    const s = new MemoryState({ clock });
    expect(await s.claimOnce('k', 1000)).toBe(true);
    clock.advance(999);
    expect(await s.claimOnce('k', 1000)).toBe(false);
    clock.advance(1);
    expect(await s.claimOnce('k', 1000)).toBe(true);
  });

  it('stays bounded under a flood of distinct keys', async () => {
    const s = new MemoryState({ maxClaims: 100 });
    for (let i = 0; i < 1000; i++) await s.claimOnce(`k${i}`, 60_000);
    // the newest claims still hold
    expect(await s.claimOnce('k999', 60_000)).toBe(false);
    expect((s as unknown as { claims: Map<string, number> }).claims.size).toBeLessThanOrEqual(100);
  });

  it('keeps about the live claims, not every claim since start (expired ones are swept)', async () => {
    const clock = new FakeClock();
    const s = new MemoryState({ clock });
    const claims = (s as unknown as { claims: Map<string, number> }).claims;
    // a DPoP-like stream: 100 proofs a second, each claimed for 60 s, for 20 minutes
    let most = 0;
    for (let i = 0; i < 120_000; i++) {
      if (!(await s.claimOnce(`jti${i}`, 60_000))) throw new Error(`jti${i} refused`);
      clock.advance(10);
      most = Math.max(most, claims.size);
    }
    expect(most).toBeLessThanOrEqual(2 * 6000 + 2);
    // a live claim is never swept: the last minute's proofs are still refused
    expect(await s.claimOnce('jti119999', 60_000)).toBe(false);
    expect(await s.claimOnce('jti114001', 60_000)).toBe(false);
  });

  it('openState() without a URL is in-process', async () => {
    const s = await openState();
    expect(s.kind).toBe('memory');
    await s.close();
  });
});

const prefix = `tessera-test:${randomUUID()}:`;
describe.skipIf(!hasRedis)('RedisState', () => {
  conformance('redis', async () => {
    const a = new RedisState(REDIS_URL, { prefix });
    const b = new RedisState(REDIS_URL, { prefix });
    await a.connect();
    await b.connect();
    return [a, b];
  });

  it('openState(redis://…) connects', async () => {
    const s = await openState(REDIS_URL, { prefix });
    expect(s.kind).toBe('redis');
    await s.ping();
    await s.close();
  });

  it('openState refuses an unreachable Redis at start-up without leaking the password', async () => {
    const err = await openState('redis://:hunter2@127.0.0.1:1', {}).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain('127.0.0.1:1');
    expect((err as Error).message).not.toContain('hunter2');
  });

  it('during an outage limiters degrade to per-node memory limits (neither open nor closed)', async () => {
    const s = new RedisState('redis://127.0.0.1:1', { prefix });
    try {
      const l = s.limiter({ keyPrefix: 'outage', points: 3, durationSec: 60 });
      for (let i = 0; i < 3; i++) await expect(l.consume('ip')).resolves.toBeInstanceOf(RateLimiterRes);
      await expect(l.consume('ip')).rejects.toBeInstanceOf(RateLimiterRes);
      // replay caches fail closed: an error, never a silent "first use"
      await expect(s.claimOnce('jti', 1000)).rejects.toBeInstanceOf(Error);
    } finally {
      await s.close();
    }
  });

  it('keys carry the prefix', async () => {
    const s = new RedisState(REDIS_URL, { prefix });
    await s.connect();
    await s.claimOnce('visible', 10_000);
    const raw = (s as unknown as { client: { exists(k: string): Promise<number> } }).client;
    expect(await raw.exists(`${prefix}once:visible`)).toBe(1);
    await s.close();
  });

  afterAll(async () => {
    const s = new RedisState(REDIS_URL);
    await s.connect();
    const raw = (s as unknown as { client: { keys(p: string): Promise<string[]>; del(...k: string[]): Promise<number> } }).client;
    const keys = await raw.keys(`${prefix}*`);
    if (keys.length) await raw.del(...keys);
    await s.close();
  });
});
