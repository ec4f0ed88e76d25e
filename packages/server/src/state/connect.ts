import { createHash } from 'node:crypto';
import { MemoryState } from './memory.js';
import { RedisState, type RedisStateOptions } from './redis.js';
import type { SharedState } from './types.js';

/** In-process state without a URL; with `redis://…` a connected RedisState (rejects when unreachable). */
export async function openState(redisUrl?: string, opts: RedisStateOptions = {}): Promise<SharedState> {
  if (!redisUrl) return new MemoryState();
  const state = new RedisState(redisUrl, opts);
  try {
    await state.connect();
  } catch (err) {
    await state.close();
    // the URL may carry a password: name only the host
    const host = new URL(redisUrl).host;
    throw new Error(`cannot connect to Redis at ${host}: ${(err as Error).message}`);
  }
  return state;
}

/**
 * The namespace of every Redis key and channel: `TESSERA_REDIS_PREFIX`, else one derived from the issuer.
 * Two deployments sharing a Redis (pub/sub ignores the database number) then never share a rate-limit
 * counter, a replay-cache entry or a revocation channel; the nodes of one deployment share one issuer.
 */
export function redisPrefix(config: { TESSERA_REDIS_PREFIX?: string | undefined; issuer: string }): string {
  const p = config.TESSERA_REDIS_PREFIX ?? `tessera:${createHash('sha256').update(config.issuer).digest('base64url').slice(0, 16)}`;
  return p.endsWith(':') ? p : `${p}:`;
}
