import type { RateLimiterAbstract } from 'rate-limiter-flexible';

/**
 * State shared by every node: in-process for one machine (state/memory.ts), Redis for several
 * (state/redis.ts). Rate limits, replay caches and the revocation push channel live here.
 */
export interface LimiterOptions {
  keyPrefix: string;
  points: number;
  durationSec: number;
  /** block the key for this long once points are exhausted */
  blockDurationSec?: number;
}

export interface SharedState {
  readonly kind: 'memory' | 'redis';
  /** set-if-absent with a TTL; true when this call set it (DPoP jti, TOTP step replay caches across nodes) */
  claimOnce(key: string, ttlMs: number): Promise<boolean>;
  publish(channel: string, message: string): Promise<void>;
  /** returns an unsubscribe function */
  subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>>;
  /** a rate-limiter-flexible limiter on this state (Redis ones get an in-memory insurance limiter) */
  limiter(opts: LimiterOptions): RateLimiterAbstract;
  ping(): Promise<void>;
  close(): Promise<void>;
}
