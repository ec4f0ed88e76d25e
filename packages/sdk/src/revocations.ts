import { fnv1a, mix32 } from './hash.js';

/** One item of the issuer's revocation feed (`GET /v1/revocations`, `/v1/revocations/stream`). */
export interface RevocationItem {
  cursor?: number;
  sid?: string;
  sub?: string;
  revoked_at: string;
  until: string;
}

interface SubEntry {
  revokedAtSec: number;
  untilMs: number;
}

/**
 * A Bloom filter over strings: "certainly not present" or "maybe". Nearly every token a resource server sees
 * was never revoked, and with it the filter answers from two bits of a table of 16 to 48 bits per entry (256 KB
 * at 100,000 entries), instead of a Map probe that hashes the string and then touches its bucket, its entry and
 * a stored key scattered over megabytes a busy server has long evicted from the CPU caches. Hand-written
 * because it is twenty lines and must never answer "absent" for a present key: the owner adds every key it
 * stores and rebuilds from its Map, so a "maybe" always goes on to the Map, which decides.
 */
class StringFilter {
  #bits = new Int32Array(0);
  #mask = 0;
  /** Keys added since the last rebuild (stale ones included: a forgotten key only costs a Map probe). */
  #added = 0;

  mayHave(key: string): boolean {
    return this.#added !== 0 && this.#probe(key, false);
  }

  /** Adds a key; false when the table is full and the caller must rebuild it (with room for more). */
  add(key: string): boolean {
    if (this.#added >= (this.#mask + 1) >>> 4) return false;
    this.#probe(key, true);
    this.#added++;
    return true;
  }

  /** Whether the key's two bits (from one hash, double hashing) are set; with `set`, sets them first. */
  #probe(key: string, set: boolean): boolean {
    const h = fnv1a(key);
    const a = h & this.#mask;
    const b = mix32(h) & this.#mask;
    if (set) {
      this.#bits[a >>> 5] |= 1 << (a & 31);
      this.#bits[b >>> 5] |= 1 << (b & 31);
    }
    return (this.#bits[a >>> 5] & (1 << (a & 31))) !== 0 && (this.#bits[b >>> 5] & (1 << (b & 31))) !== 0;
  }

  get added(): number {
    return this.#added;
  }

  /** Starts over with exactly `keys`, with room for at least half as many again (and at least 1,024). */
  rebuild(keys: Iterable<string>, count: number): void {
    let bits = 1 << 14;
    while (bits < count * 24) bits *= 2;
    this.#bits = new Int32Array(bits >>> 5);
    this.#mask = bits - 1;
    this.#added = 0;
    for (const k of keys) this.add(k);
  }
}

/**
 * The revoked sessions and subjects: two Bloom filters per request, a Map lookup only on a "maybe". A `sid`
 * entry revokes every token of that session; a `sub` entry every token of that user issued at or before
 * `revoked_at`. An entry is kept until `until` (by then every token it covers has expired); dropping later is
 * harmless, earlier never.
 */
export class RevocationSet {
  readonly #sids = new Map<string, number>();
  readonly #subs = new Map<string, SubEntry>();
  readonly #sidFilter = new StringFilter();
  readonly #subFilter = new StringFilter();
  #version = 0;

  /**
   * Grows with every applied item and never otherwise. Sweeping only forgets entries, so a token found not
   * revoked at version v is still not revoked while the version is v: callers may skip the lookups.
   */
  get version(): number {
    return this.#version;
  }

  get sizes(): { sids: number; subs: number } {
    return { sids: this.#sids.size, subs: this.#subs.size };
  }

  /** Adds a feed item; returns false (and ignores it) when it is malformed. */
  add(item: unknown): boolean {
    if (typeof item !== 'object' || item === null) return false;
    const it = item as Partial<Record<keyof RevocationItem, unknown>>;
    const untilMs = typeof it.until === 'string' ? Date.parse(it.until) : NaN;
    const revokedAtMs = typeof it.revoked_at === 'string' ? Date.parse(it.revoked_at) : NaN;
    if (!Number.isFinite(untilMs) || !Number.isFinite(revokedAtMs)) return false;
    let used = false;
    if (typeof it.sid === 'string' && it.sid.length > 0) {
      this.#sids.set(it.sid, Math.max(untilMs, this.#sids.get(it.sid) ?? 0));
      if (!this.#sidFilter.add(it.sid)) this.#sidFilter.rebuild(this.#sids.keys(), this.#sids.size);
      used = true;
    }
    if (typeof it.sub === 'string' && it.sub.length > 0) {
      const prev = this.#subs.get(it.sub);
      this.#subs.set(it.sub, {
        revokedAtSec: Math.max(revokedAtMs / 1000, prev?.revokedAtSec ?? 0),
        untilMs: Math.max(untilMs, prev?.untilMs ?? 0),
      });
      if (!this.#subFilter.add(it.sub)) this.#subFilter.rebuild(this.#subs.keys(), this.#subs.size);
      used = true;
    }
    if (used) this.#version++;
    return used;
  }

  isRevoked(sid: string, sub: string, iat: number): boolean {
    if (this.#sidFilter.mayHave(sid) && this.#sids.has(sid)) return true;
    if (!this.#subFilter.mayHave(sub)) return false;
    const s = this.#subs.get(sub);
    return s !== undefined && iat <= s.revokedAtSec;
  }

  /** Drops entries past their `until`; the filters forget them once half of what they hold is gone. */
  sweep(nowMs: number): void {
    for (const [sid, until] of this.#sids) if (until < nowMs) this.#sids.delete(sid);
    for (const [sub, e] of this.#subs) if (e.untilMs < nowMs) this.#subs.delete(sub);
    if (this.#sids.size < this.#sidFilter.added / 2) this.#sidFilter.rebuild(this.#sids.keys(), this.#sids.size);
    if (this.#subs.size < this.#subFilter.added / 2) this.#subFilter.rebuild(this.#subs.keys(), this.#subs.size);
  }
}
