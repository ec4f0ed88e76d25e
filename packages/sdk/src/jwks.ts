import { importJWK } from 'jose';
import type { CryptoKey, JWK, JWTHeaderParameters, KeyObject } from 'jose';
import { TesseraTokenError } from './errors.js';

export interface JwksCacheOptions {
  issuer: string;
  algorithms: readonly string[];
  fetch: typeof fetch;
  now: () => number;
  /** Unknown kids trigger at most one refetch per interval (default 10 s). */
  minRefetchIntervalMs?: number;
  timeoutMs?: number;
}

interface KeyEntry {
  alg: string;
  key: CryptoKey | KeyObject | Uint8Array;
  fingerprint: string;
}

const DEFAULT_MAX_AGE_SEC = 300;
const MAX_MAX_AGE_SEC = 86_400;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];
const INFERRED_ALG: Record<string, string> = { 'OKP/Ed25519': 'EdDSA', 'EC/P-256': 'ES256' };

/**
 * The issuer's signing keys: discovered through RFC 8414 metadata, cached for the JWKS's Cache-Control
 * max-age, each key imported once and kept by kid. Unknown kids can trigger a refetch, but only once per
 * interval, so a flood of tokens with made-up kids cannot make us hammer the issuer.
 */
export class JwksCache {
  readonly #o: Required<JwksCacheOptions>;
  #keys = new Map<string, KeyEntry>();
  #jwksUri: string | undefined;
  #expiresAt = 0;
  #lastFetchAt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | undefined;
  #fetches = 0;
  #loaded = false;

  constructor(opts: JwksCacheOptions) {
    this.#o = { minRefetchIntervalMs: 10_000, timeoutMs: 5_000, ...opts };
  }

  get loaded(): boolean {
    return this.#loaded;
  }

  stats(): { keys: number; fetches: number; lastFetchAt: number | null } {
    return { keys: this.#keys.size, fetches: this.#fetches, lastFetchAt: Number.isFinite(this.#lastFetchAt) ? this.#lastFetchAt : null };
  }

  /** Loads the keys if they were never loaded; rejects when the issuer cannot be reached. */
  async ensureLoaded(): Promise<void> {
    if (!this.#loaded) await this.refresh();
  }

  getKey = async (header: JWTHeaderParameters): Promise<CryptoKey | KeyObject | Uint8Array> => {
    const kid = kidOf(header);
    try {
      await this.ensureLoaded();
    } catch {
      throw new TesseraTokenError('invalid_token', 'jwks_unavailable');
    }
    let entry = this.#known(kid);
    if (entry === undefined && this.#o.now() - this.#lastFetchAt >= this.#o.minRefetchIntervalMs) {
      // A kid we do not know may be the issuer's freshly rotated key.
      await this.refresh().catch(() => undefined);
      entry = this.#keys.get(kid);
    }
    return checkedKey(entry, header);
  };

  /**
   * getKey without waiting: the key when the keys are loaded and the kid is known, undefined when only
   * getKey can tell (first load, or an unknown kid that may be a rotated key). Refuses exactly as getKey.
   */
  keyAtHand = (header: { kid?: unknown; alg?: unknown }): CryptoKey | KeyObject | Uint8Array | undefined => {
    if (!this.#loaded) return undefined;
    const entry = this.#known(kidOf(header));
    return entry === undefined ? undefined : checkedKey(entry, header);
  };

  #known(kid: string): KeyEntry | undefined {
    const now = this.#o.now();
    if (now >= this.#expiresAt && now - this.#lastFetchAt >= this.#o.minRefetchIntervalMs) {
      // Stale-while-revalidate: keep serving the keys we have; a failed refresh keeps them too.
      this.refresh().catch(() => undefined);
    }
    return this.#keys.get(kid);
  }

  /** Single-flight refetch of the discovery document (first time) and the JWKS. */
  refresh(): Promise<void> {
    this.#inflight ??= this.#fetchKeys().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #fetchKeys(): Promise<void> {
    this.#lastFetchAt = this.#o.now();
    this.#fetches++;
    this.#jwksUri ??= await this.#discover();
    const res = await this.#o.fetch(this.#jwksUri, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(this.#o.timeoutMs),
    });
    if (!res.ok) throw new Error(`JWKS fetch failed: HTTP ${res.status}`);
    const doc = (await res.json()) as { keys?: unknown };
    if (!Array.isArray(doc.keys)) throw new Error('JWKS document has no keys array');
    const next = new Map<string, KeyEntry>();
    for (const jwk of doc.keys as unknown[]) {
      const entry = await this.#importOne(jwk);
      if (entry && !next.has(entry.kid)) next.set(entry.kid, entry.entry);
    }
    this.#keys = next;
    this.#expiresAt = this.#o.now() + maxAgeOf(res.headers.get('cache-control')) * 1000;
    this.#loaded = true;
  }

  async #discover(): Promise<string> {
    const issuer = this.#o.issuer.replace(/\/+$/, '');
    const res = await this.#o.fetch(`${issuer}/.well-known/oauth-authorization-server`, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(this.#o.timeoutMs),
    });
    if (!res.ok) throw new Error(`discovery failed: HTTP ${res.status}`);
    const meta = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
    // RFC 8414 §3.3: metadata naming another issuer is a mix-up, not ours to trust.
    if (meta.issuer !== this.#o.issuer && meta.issuer !== issuer) throw new Error('discovery issuer mismatch');
    if (typeof meta.jwks_uri !== 'string') throw new Error('discovery has no jwks_uri');
    const uri = new URL(meta.jwks_uri);
    // Keys over plain http only when the issuer itself is plain http (local development, tests).
    if (uri.protocol !== 'https:' && !(uri.protocol === 'http:' && issuer.startsWith('http:'))) {
      throw new Error('jwks_uri must be https');
    }
    return uri.href;
  }

  async #importOne(raw: unknown): Promise<{ kid: string; entry: KeyEntry } | null> {
    if (typeof raw !== 'object' || raw === null) return null;
    const jwk = raw as Record<string, unknown>;
    if (typeof jwk.kid !== 'string' || jwk.kid.length === 0) return null;
    if (jwk.use !== undefined && jwk.use !== 'sig') return null;
    // Symmetric or private material never belongs in a public key set; ignore it rather than trust it.
    if (jwk.kty === 'oct' || PRIVATE_MEMBERS.some((m) => m in jwk)) return null;
    const alg = typeof jwk.alg === 'string' ? jwk.alg : INFERRED_ALG[`${String(jwk.kty)}/${String(jwk.crv)}`];
    if (alg === undefined || !this.#o.algorithms.includes(alg)) return null;
    const fingerprint = JSON.stringify([jwk.kty, jwk.crv, jwk.x, jwk.y, jwk.n, jwk.e, alg]);
    const existing = this.#keys.get(jwk.kid);
    if (existing && existing.fingerprint === fingerprint) return { kid: jwk.kid, entry: existing };
    try {
      const key = await importJWK({ ...(jwk as JWK), ext: false }, alg);
      return { kid: jwk.kid, entry: { alg, key, fingerprint } };
    } catch {
      return null;
    }
  }
}

function kidOf(header: { kid?: unknown }): string {
  if (typeof header.kid !== 'string' || header.kid.length === 0) throw new TesseraTokenError('invalid_token', 'kid_missing');
  return header.kid;
}

function checkedKey(entry: KeyEntry | undefined, header: { alg?: unknown }): CryptoKey | KeyObject | Uint8Array {
  if (entry === undefined) throw new TesseraTokenError('invalid_token', 'kid_unknown');
  // The key decides the algorithm, not the token: an Ed25519 kid with alg HS256 is a confusion attempt.
  if (entry.alg !== header.alg) throw new TesseraTokenError('invalid_token', 'alg_key_mismatch');
  return entry.key;
}

export function maxAgeOf(cacheControl: string | null): number {
  const m = cacheControl ? /(?:^|,)\s*max-age=(\d+)/i.exec(cacheControl) : null;
  const sec = m ? Number(m[1]) : DEFAULT_MAX_AGE_SEC;
  // Even `max-age=0` keeps the keys 10 s, the same floor as the unknown-kid refetch.
  return Math.min(Math.max(sec, 10), MAX_MAX_AGE_SEC);
}
