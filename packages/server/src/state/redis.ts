import { Redis } from 'ioredis';
import { RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { limiterId, memoryLimiter } from './memory.js';
import type { LimiterOptions, SharedState } from './types.js';

export interface RedisStateOptions {
  /** prefix of every key and channel (default `tessera:`); tests use a unique one per run */
  prefix?: string;
  /** connection errors (Redis down, reconnecting); never contain credentials from the URL */
  onError?: (err: Error) => void;
  /** nodes sharing this Redis (TESSERA_EXPECTED_NODES): while it is down each node keeps its share of a limit */
  expectedNodes?: number;
}

/**
 * Shared state for several nodes on one Redis. Commands fail fast while Redis is unreachable (no offline
 * queue): replay caches then fail closed (claimOnce rejects), while rate limiters fall back to a per-node
 * in-memory insurance limiter — a Redis outage neither opens the door to brute force nor locks everyone out.
 */
export class RedisState implements SharedState {
  readonly kind = 'redis' as const;
  readonly prefix: string;
  private readonly client: Redis;
  private subscriber: Promise<Redis> | undefined;
  private readonly handlers = new Map<string, Set<(message: string) => void>>();
  private readonly limiters = new Map<string, RateLimiterRedis>();
  private readonly onError: (err: Error) => void;
  private readonly expectedNodes: number;

  constructor(url: string, opts: RedisStateOptions = {}) {
    this.prefix = opts.prefix ?? 'tessera:';
    this.onError = opts.onError ?? (() => {});
    this.expectedNodes = Math.max(1, opts.expectedNodes ?? 1);
    this.client = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    this.client.on('error', (err: Error) => this.onError(err));
  }

  /** connects the command connection; rejects when Redis is unreachable */
  async connect(): Promise<void> {
    await this.client.connect();
  }

  async claimOnce(key: string, ttlMs: number): Promise<boolean> {
    if (!(ttlMs > 0)) throw new TypeError('claimOnce: ttlMs must be positive');
    const res = await this.client.set(`${this.prefix}once:${key}`, '1', 'PX', Math.ceil(ttlMs), 'NX');
    return res === 'OK';
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.client.publish(this.prefix + channel, message);
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>> {
    const sub = await this.getSubscriber();
    const full = this.prefix + channel;
    let set = this.handlers.get(full);
    if (!set) {
      set = new Set();
      this.handlers.set(full, set);
    }
    const h = (message: string) => handler(message);
    set.add(h);
    await sub.subscribe(full);
    return async () => {
      const current = this.handlers.get(full);
      if (!current?.delete(h) || current.size > 0) return;
      this.handlers.delete(full);
      await sub.unsubscribe(full);
    };
  }

  /** a subscribed connection cannot run other commands, so pub/sub gets its own (resubscribes on reconnect) */
  private getSubscriber(): Promise<Redis> {
    this.subscriber ??= (async () => {
      const sub = this.client.duplicate({ lazyConnect: true, enableOfflineQueue: true, maxRetriesPerRequest: null });
      sub.on('error', (err: Error) => this.onError(err));
      sub.on('message', (channel: string, message: string) => {
        for (const h of this.handlers.get(channel) ?? []) {
          try {
            h(message);
          } catch {
            /* the handler owns its errors */
          }
        }
      });
      try {
        await sub.connect();
      } catch (err) {
        sub.disconnect();
        this.subscriber = undefined;
        throw err;
      }
      return sub;
    })();
    return this.subscriber;
  }

  limiter(opts: LimiterOptions): RateLimiterAbstract {
    const id = limiterId(opts);
    let l = this.limiters.get(id);
    if (!l) {
      l = new RateLimiterRedis({
        storeClient: this.client,
        keyPrefix: `${this.prefix}rl:${opts.keyPrefix}`,
        points: opts.points,
        duration: opts.durationSec,
        blockDuration: opts.blockDurationSec ?? 0,
        // skip the round trip while disconnected and go straight to the insurance limiter
        rejectIfRedisNotReady: true,
        // Redis down: each node counts alone, so it gets its share of the budget — N nodes together still
        // allow about the configured limit instead of N times it (an attacker spraying every node).
        insuranceLimiter: memoryLimiter({ ...opts, points: Math.max(1, Math.floor(opts.points / this.expectedNodes)) }),
      });
      this.limiters.set(id, l);
    }
    return l;
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
    this.handlers.clear();
    const sub = this.subscriber;
    this.subscriber = undefined;
    if (sub) {
      const s = await sub.catch(() => undefined);
      s?.disconnect();
    }
    if (this.client.status === 'ready') await this.client.quit().catch(() => undefined);
    this.client.disconnect();
  }
}
