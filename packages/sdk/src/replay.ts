/**
 * In-process DPoP jti replay cache (RFC 9449 §11.1), bounded. Entries live for the proof's acceptance window;
 * Map insertion order is expiry order (one TTL for all), so the oldest entries are swept from the front.
 * Several resource-server processes each keep their own: pass `isDpopReplay` backed by Redis to share one.
 */
export class ReplayCache {
  readonly #seen = new Map<string, number>();

  constructor(
    private readonly max = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  isReplay = async (jti: string, ttlMs: number): Promise<boolean> => {
    const now = this.now();
    const until = this.#seen.get(jti);
    if (until !== undefined && until > now) return true;
    for (const [k, exp] of this.#seen) {
      if (exp > now && this.#seen.size < this.max) break;
      this.#seen.delete(k);
    }
    this.#seen.delete(jti);
    this.#seen.set(jti, now + ttlMs);
    return false;
  };
}
