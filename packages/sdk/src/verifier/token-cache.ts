import { fnv1a, mix32 } from '../hash.js';
import type { AccessTokenClaims } from '../jwt.js';
import { LruCache } from '../lru.js';

export interface CacheEntry {
  token: string;
  claims: AccessTokenClaims;
  expiresAtMs: number;
  /** The revocation set's version when this token was last found not revoked (-1: never). */
  unrevokedAt: number;
}

/**
 * A cache key: a 30-bit hash (a small integer: no string slice to allocate, no string to hash in the Map) of
 * the token's last characters, its signature, which is random and so spreads well. Keys may collide: a hit
 * still compares the whole token, so a collision costs a miss, never a wrong answer. Only tokens whose
 * signature verified are ever inserted, so nobody can pick keys to crowd a bucket.
 */
const KEY_CHARS = 16;
export function keyOf(token: string): number {
  // The last character of a signature carries only 2 or 4 bits; the 16 before it carry 96.
  const end = token.length - 1;
  return mix32(fnv1a(token, Math.max(0, end - KEY_CHARS), end)) & 0x3fffffff;
}

/**
 * Which keys were seen once, by slot (TinyLFU's "doorkeeper"). A full cache admits a new token only on its
 * second sighting: a stream of tokens used once each (or an attacker's flood of valid one-shot tokens)
 * would otherwise evict the tokens in active use, and would make every never-repeated token pay an insert,
 * an eviction and its survival through garbage collection. Slots are overwritten, never cleared; a stale or
 * colliding slot only admits a token early or late.
 */
class Doorkeeper {
  readonly #slots = new Int32Array(1 << 14);

  /** True when `key` was recorded before; records it otherwise. */
  seenBefore(key: number): boolean {
    const slot = key & 0x3fff;
    const mark = key | 0x40000000; // never 0, the empty slot
    if (this.#slots[slot] === mark) return true;
    this.#slots[slot] = mark;
    return false;
  }
}

/** Verified tokens until their `exp` (plus the clock tolerance), with TinyLFU-style admission. */
export class TokenCache {
  readonly #lru: LruCache<number, CacheEntry>;
  readonly #doorkeeper = new Doorkeeper();
  readonly #toleranceSec: number;
  hits = 0;
  misses = 0;

  constructor(size: number, toleranceSec: number) {
    this.#lru = new LruCache<number, CacheEntry>(size);
    this.#toleranceSec = toleranceSec;
  }

  get size(): number {
    return this.#lru.size;
  }

  /** The cached, unexpired entry for exactly this token (a hit), or undefined (a miss). */
  get(key: number, token: string, t: number): CacheEntry | undefined {
    const entry = this.#lru.get(key);
    if (entry === undefined || entry.token !== token) return undefined;
    if (t < entry.expiresAtMs) {
      this.hits++;
      return entry;
    }
    this.#lru.delete(key);
    return undefined;
  }

  /**
   * Caches a verified token, if admitted. Nothing is allocated for a token that is not: V8 learns from the
   * cache filling up that entries live long and then allocates every entry straight in the old generation,
   * where an entry that is never cached would keep its token and claims alive through the next scavenges.
   */
  admit(key: number, token: string, claims: AccessTokenClaims): void {
    // A DPoP-bound token is admitted at once: the synchronous path hands it to `verify`, which looks it up next.
    if (this.#lru.full && claims.cnf === undefined && !this.#doorkeeper.seenBefore(key)) return;
    this.#lru.set(key, { token, claims, expiresAtMs: (claims.exp + this.#toleranceSec) * 1000, unrevokedAt: -1 });
  }

  clear(): void {
    this.#lru.clear();
  }
}
