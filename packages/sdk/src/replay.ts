import { TesseraTokenError } from './errors.js';

/**
 * In-process DPoP jti replay cache (RFC 9449 §11.1), bounded. Entries live for the proof's acceptance window;
 * Map insertion order is expiry order (one TTL for all), so expired entries are swept from the front.
 * Several resource-server processes each keep their own: pass `isDpopReplay` backed by Redis to share one.
 */
export class ReplayCache {
  readonly #seen = new Map<string, number>();

  constructor(
    private readonly max = 100_000,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new TypeError('ReplayCache size must be a positive integer');
  }

  get size(): number {
    return this.#seen.size;
  }

  isReplay = async (jti: string, ttlMs: number): Promise<boolean> => {
    const now = this.now();
    const until = this.#seen.get(jti);
    if (until !== undefined && until > now) return true;
    for (const [k, exp] of this.#seen) {
      if (exp > now) break;
      this.#seen.delete(k);
    }
    // Fail closed: evicting a live jti to make room would let a captured proof be accepted a second time.
    if (until === undefined && this.#seen.size >= this.max) throw new TesseraTokenError('invalid_dpop_proof', 'replay_cache_full');
    this.#seen.delete(jti);
    this.#seen.set(jti, now + ttlMs);
    return false;
  };
}
