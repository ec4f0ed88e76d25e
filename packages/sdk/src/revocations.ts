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
 * The revoked sessions and subjects, answered with two Map lookups per request. A `sid` entry revokes every
 * token of that session; a `sub` entry every token of that user issued at or before `revoked_at`. An entry
 * is kept until `until` (by then every token it covers has expired); dropping later is harmless, earlier never.
 */
export class RevocationSet {
  readonly #sids = new Map<string, number>();
  readonly #subs = new Map<string, SubEntry>();
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
      used = true;
    }
    if (typeof it.sub === 'string' && it.sub.length > 0) {
      const prev = this.#subs.get(it.sub);
      this.#subs.set(it.sub, {
        revokedAtSec: Math.max(revokedAtMs / 1000, prev?.revokedAtSec ?? 0),
        untilMs: Math.max(untilMs, prev?.untilMs ?? 0),
      });
      used = true;
    }
    if (used) this.#version++;
    return used;
  }

  isRevoked(sid: string, sub: string, iat: number): boolean {
    if (this.#sids.has(sid)) return true;
    if (this.#subs.size === 0) return false;
    const s = this.#subs.get(sub);
    return s !== undefined && iat <= s.revokedAtSec;
  }

  /** Drops entries past their `until`. */
  sweep(nowMs: number): void {
    for (const [sid, until] of this.#sids) if (until < nowMs) this.#sids.delete(sid);
    for (const [sub, e] of this.#subs) if (e.untilMs < nowMs) this.#subs.delete(sub);
  }
}
