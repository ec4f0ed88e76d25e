import { EventEmitter } from 'node:events';
import { RateLimiterMemory, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { systemClock, type Clock } from '../lib/clock.js';
import type { LimiterOptions, SharedState } from './types.js';

/** Limiters are memoised by their full options so every caller of one policy shares one counter. */
export function limiterId(opts: LimiterOptions): string {
  return JSON.stringify([opts.keyPrefix, opts.points, opts.durationSec, opts.blockDurationSec ?? 0]);
}

export function memoryLimiter(opts: LimiterOptions): RateLimiterMemory {
  return new RateLimiterMemory({
    keyPrefix: opts.keyPrefix,
    points: opts.points,
    duration: opts.durationSec,
    blockDuration: opts.blockDurationSec ?? 0,
  });
}

/** The claim map is swept of expired claims whenever it has doubled since the last sweep (and is this big). */
const SWEEP_FLOOR = 1024;

/**
 * In-process shared state for a single node. The claim map is bounded: a flood of distinct keys evicts the
 * oldest claims (closest to expiry for uniform TTLs) instead of growing the heap without limit. Expired
 * claims are swept as the map doubles (amortised O(1) a claim), so it holds about twice the live claims at
 * most: memory follows the traffic of the last TTL, not the history since start (one DPoP proof a request
 * would otherwise keep `maxClaims` dead entries: ≈ 110 MiB of heap).
 */
export class MemoryState implements SharedState {
  readonly kind = 'memory' as const;
  private readonly claims = new Map<string, number>();
  private readonly bus = new EventEmitter();
  private readonly limiters = new Map<string, RateLimiterMemory>();
  private readonly maxClaims: number;
  private readonly clock: Clock;
  private sweepAt = SWEEP_FLOOR;

  constructor(opts: { maxClaims?: number; clock?: Clock } = {}) {
    this.maxClaims = opts.maxClaims ?? 1_000_000;
    this.clock = opts.clock ?? systemClock;
    this.bus.setMaxListeners(0);
  }

  async claimOnce(key: string, ttlMs: number): Promise<boolean> {
    if (!(ttlMs > 0)) throw new TypeError('claimOnce: ttlMs must be positive');
    const now = this.clock.now();
    const until = this.claims.get(key);
    if (until !== undefined && until > now) return false;
    this.claims.delete(key); // re-insert so Map order stays oldest-first
    if (this.claims.size >= this.sweepAt) this.sweep(now);
    if (this.claims.size >= this.maxClaims) this.evict(now);
    this.claims.set(key, now + ttlMs);
    return true;
  }

  private sweep(now: number): void {
    for (const [k, until] of this.claims) if (until <= now) this.claims.delete(k);
    this.sweepAt = Math.max(SWEEP_FLOOR, this.claims.size * 2);
  }

  private evict(now: number): void {
    this.sweep(now);
    while (this.claims.size >= this.maxClaims) {
      const oldest = this.claims.keys().next();
      if (oldest.done) break;
      this.claims.delete(oldest.value);
    }
  }

  async publish(channel: string, message: string): Promise<void> {
    this.bus.emit(channel, message);
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>> {
    // one subscriber that throws must not stop delivery to the others (nor fail the publisher)
    const safe = (message: string) => {
      try {
        handler(message);
      } catch {
        /* the handler owns its errors */
      }
    };
    this.bus.on(channel, safe);
    return async () => {
      this.bus.off(channel, safe);
    };
  }

  limiter(opts: LimiterOptions): RateLimiterAbstract {
    const id = limiterId(opts);
    let l = this.limiters.get(id);
    if (!l) {
      l = memoryLimiter(opts);
      this.limiters.set(id, l);
    }
    return l;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.bus.removeAllListeners();
    this.claims.clear();
  }
}
