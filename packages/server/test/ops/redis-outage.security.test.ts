/**
 * Redis down: rate limits fall back to a per-node limiter holding this node's share of the limit
 * (TESSERA_EXPECTED_NODES), so N nodes together do not grant N times the budget to an attacker spraying
 * every node; replay caches fail closed (a DPoP proof or TOTP code cannot be replayed just because the
 * shared cache is unreachable). Real Redis of the test's own, stopped mid-test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { RedisState } from '../../src/state/redis.js';
import { toTesseraError } from '../../src/http/problem.js';
import { hasRedisBinary, startOwnRedis, type OwnRedis } from '../support/faults/redis.js';

async function allowed(limiter: ReturnType<RedisState['limiter']>, key: string, tries: number): Promise<number> {
  let ok = 0;
  for (let i = 0; i < tries; i++) {
    try {
      await limiter.consume(key);
      ok++;
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
    }
  }
  return ok;
}

describe.skipIf(!hasRedisBinary)('Redis outage', () => {
  let redis: OwnRedis;
  let state: RedisState;
  beforeAll(async () => {
    redis = await startOwnRedis();
    state = new RedisState(redis.url, { expectedNodes: 4, onError: () => undefined });
    await state.connect();
  });
  afterAll(async () => {
    await state?.close();
    await redis?.destroy();
  });

  it('with Redis up, the limit is shared; with Redis down, each node keeps only its share', async () => {
    const limiter = state.limiter({ keyPrefix: 'outage-test', points: 20, durationSec: 60 });
    expect(await allowed(limiter, 'up-ip', 30)).toBe(20);
    await redis.stop();
    await new Promise((r) => setTimeout(r, 200));
    // 20 points ÷ 4 expected nodes: this node lets 5 through while it counts alone
    expect(await allowed(limiter, 'down-ip', 30)).toBe(5);
  });

  it('replay caches fail closed while Redis is down, and the request answers 503 with Retry-After', async () => {
    const err = await state.claimOnce('dpop:jti-1', 60_000).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const te = toTesseraError(err);
    expect(te.status).toBe(503);
    expect(te.headers['Retry-After']).toBeDefined();
  });

  it('after Redis returns, claims and shared limits work again without a restart', async () => {
    await redis.start();
    const until = Date.now() + 5000;
    let claimed: boolean | undefined;
    while (claimed === undefined && Date.now() < until) {
      claimed = await state.claimOnce('dpop:jti-2', 60_000).catch(() => undefined);
      if (claimed === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    expect(claimed).toBe(true);
    expect(await state.claimOnce('dpop:jti-2', 60_000)).toBe(false);
  });
});
