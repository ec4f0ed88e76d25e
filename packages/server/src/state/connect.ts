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
