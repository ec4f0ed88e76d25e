import { DEFAULT_DPOP_ALGORITHMS, verifyDpopProof } from './dpop.js';
import { TesseraTokenError } from './errors.js';
import { RevocationFeed } from './feed.js';
import { JwksCache } from './jwks.js';
import { compileJwtOptions, verifyAccessTokenJwt, verifyAccessTokenJwtNow } from './jwt.js';
import type { AccessTokenClaims, Ed25519Backend } from './jwt.js';
import { LruCache } from './lru.js';
import { ReplayCache } from './replay.js';
import { RevocationSet } from './revocations.js';
import { GeoCheck, type GeoCheckOptions, type GeoReport } from './geo.js';
import { fnv1a, mix32 } from './hash.js';

export interface VerifierOptions {
  issuer: string;
  /** Default: the issuer. */
  audience?: string | string[];
  /** Default ['EdDSA', 'ES256']. */
  algorithms?: string[];
  /** Resource-server client credentials (`tessera clients create`) for the revocation feed. */
  clientId?: string;
  clientSecret?: string;
  /** Fail closed when the feed has been silent this long. Default 30. */
  maxStalenessSec?: number;
  /** Verified tokens kept in memory. Default 10 000. */
  cacheSize?: number;
  fetch?: typeof fetch;
  clockToleranceSec?: number;
  /** Default 'sse' with client credentials, 'off' without. */
  revocationFeed?: 'sse' | 'poll' | 'off';
  /** Default ['ES256', 'EdDSA']. */
  dpopAlgorithms?: string[];
  /** Default 60. */
  dpopMaxAgeSec?: number;
  /** A shared jti replay check (e.g. Redis SET NX); default: an in-process cache. */
  isDpopReplay?: (jti: string, ttlMs: number) => Promise<boolean>;
  /** Feed and key-refresh failures (the verifier keeps retrying by itself). */
  onError?: (err: Error) => void;
  now?: () => number;
  /**
   * Optional local impossible-travel check: with your IP lookup, a token used far from where it was issued
   * is refused and reported to Tessera (`POST /v1/risk/reports`, with the client credentials).
   */
  geo?: GeoCheckOptions;
  /**
   * Who checks Ed25519 (EdDSA) signatures: 'auto' (default) uses libsodium when the optional `sodium-native`
   * package loads, about 1.6 times faster than node:crypto, and node:crypto otherwise.
   */
  ed25519Backend?: Ed25519Backend;
}

export interface VerifyContext {
  /** The `DPoP` request header. */
  dpopProof?: string;
  /** HTTP method and absolute URL of the request, for the DPoP proof's htm/htu. */
  method?: string;
  url?: string;
  ip?: string;
  /** The request's User-Agent, sent along with a geo report. */
  userAgent?: string;
  /** How the token was presented; a DPoP-bound token presented as Bearer or cookie is refused. */
  scheme?: 'bearer' | 'dpop' | 'cookie';
}

export interface VerifierStats {
  healthy: boolean;
  cache: { size: number; hits: number; misses: number };
  revocations: { sids: number; subs: number };
  jwks: { keys: number; fetches: number; lastFetchAt: number | null };
  feed: { cursor: number; connected: boolean; connects: number; events: number; lastActivityAt: number | null } | null;
}

export interface TesseraVerifier {
  ready(): Promise<void>;
  verify(token: string, ctx?: VerifyContext): Promise<AccessTokenClaims>;
  isHealthy(): boolean;
  close(): Promise<void>;
  stats(): VerifierStats;
}

interface CacheEntry {
  token: string;
  claims: AccessTokenClaims;
  expiresAtMs: number;
  /** The revocation set's version when this token was last found not revoked (-1: never). */
  unrevokedAt: number;
}

/**
 * `verify` as a plain synchronous function, for a token presented as Bearer or cookie: no promise, no
 * context object. It answers only what `verify` would answer without waiting and without a request context:
 * the claims of a cached or freshly verified token (feed fresh, keys at hand, not revoked, not DPoP-bound,
 * no geo check), or the refusal `verify` would throw. It returns undefined for everything else, and the caller
 * then runs `verify`.
 */
export type VerifyNow = (token: string) => AccessTokenClaims | undefined;
const nowPaths = new WeakMap<TesseraVerifier, VerifyNow>();

/** The synchronous path of a verifier made by createVerifier (undefined for any other implementation). */
export function verifyNowOf(verifier: TesseraVerifier): VerifyNow | undefined {
  return nowPaths.get(verifier);
}

/**
 * A cache key: a 30-bit hash (a small integer: no string slice to allocate, no string to hash in the Map) of
 * the token's last characters, its signature, which is random and so spreads well. Keys may collide: a hit
 * still compares the whole token, so a collision costs a miss, never a wrong answer. Only tokens whose
 * signature verified are ever inserted, so nobody can pick keys to crowd a bucket.
 */
const KEY_CHARS = 16;
function keyOf(token: string): number {
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

export function createVerifier(opts: VerifierOptions): TesseraVerifier {
  if (typeof opts.issuer !== 'string' || opts.issuer.length === 0) throw new TypeError('createVerifier: issuer is required');
  const now = opts.now ?? Date.now;
  const fetchImpl = opts.fetch ?? globalThis.fetch;
  const algorithms = opts.algorithms ?? ['EdDSA', 'ES256'];
  const hasCredentials = Boolean(opts.clientId && opts.clientSecret);
  const mode = opts.revocationFeed ?? (hasCredentials ? 'sse' : 'off');
  if (mode !== 'off' && !hasCredentials) throw new TypeError('createVerifier: the revocation feed needs clientId and clientSecret');

  const jwks = new JwksCache({ issuer: opts.issuer, algorithms, fetch: fetchImpl, now });
  const jwtOpts = compileJwtOptions({
    issuer: opts.issuer,
    audience: opts.audience ?? opts.issuer,
    algorithms,
    ...(opts.clockToleranceSec === undefined ? {} : { clockToleranceSec: opts.clockToleranceSec }),
    ...(opts.ed25519Backend === undefined ? {} : { ed25519Backend: opts.ed25519Backend }),
    now,
  });
  const tolerance = jwtOpts.tolerance;
  const cache = new LruCache<number, CacheEntry>(opts.cacheSize ?? 10_000);
  const doorkeeper = new Doorkeeper();
  const revocations = new RevocationSet();
  const replay = opts.isDpopReplay ?? new ReplayCache(100_000, now).isReplay;
  const dpopAlgorithms = opts.dpopAlgorithms ?? DEFAULT_DPOP_ALGORITHMS;
  const feed =
    mode === 'off'
      ? undefined
      : new RevocationFeed({
          issuer: opts.issuer,
          clientId: opts.clientId!,
          clientSecret: opts.clientSecret!,
          mode,
          fetch: fetchImpl,
          now,
          maxStalenessMs: (opts.maxStalenessSec ?? 30) * 1000,
          onItem: (item) => void revocations.add(item),
          ...(opts.onError ? { onError: opts.onError } : {}),
        });
  const geo = opts.geo
    ? new GeoCheck(opts.geo, hasCredentials ? (r) => void reportTravel(r) : undefined)
    : undefined;
  const reportTravel = async (r: GeoReport): Promise<void> => {
    try {
      const res = await fetchImpl(`${opts.issuer.replace(/\/+$/, '')}/v1/risk/reports`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(opts.clientId!)}:${encodeURIComponent(opts.clientSecret!)}`).toString('base64')}`,
        },
        body: JSON.stringify({ token: r.token, ip: r.ip, user_agent: r.userAgent ?? null }),
      });
      await res.body?.cancel();
    } catch (err) {
      opts.onError?.(err instanceof Error ? err : new Error(String(err)));
    }
  };
  let sweeper: NodeJS.Timeout | undefined;
  let keyRetry: NodeJS.Timeout | undefined;
  let closed = false;
  let hits = 0;
  let misses = 0;

  // Keeps trying to load the keys until it succeeds, so a resource server started before its issuer heals.
  const loadKeys = (delayMs: number): void => {
    jwks.ensureLoaded().catch((err: unknown) => {
      opts.onError?.(err instanceof Error ? err : new Error(String(err)));
      if (closed) return;
      keyRetry = setTimeout(() => loadKeys(Math.min(delayMs * 2, 10_000)), delayMs);
      keyRetry.unref();
    });
  };

  const startBackground = (): void => {
    if (sweeper || closed) return;
    feed?.start();
    loadKeys(500);
    sweeper = setInterval(() => revocations.sweep(now()), 30_000);
    sweeper.unref();
  };

  async function checkDpop(token: string, claims: AccessTokenClaims, ctx: VerifyContext): Promise<void> {
    const jkt = claims.cnf?.jkt;
    if (jkt === undefined) {
      // The DPoP scheme promises a bound token; an unbound one claiming it is a confused or forged request.
      if (ctx.scheme === 'dpop') throw new TesseraTokenError('invalid_token', 'dpop_scheme_unbound_token');
      return;
    }
    // A bound token sent as Bearer (or cookie) is what a thief without the private key would do (RFC 9449 §7.1).
    if (ctx.scheme === 'bearer' || ctx.scheme === 'cookie') throw new TesseraTokenError('invalid_token', 'dpop_bound_token_as_bearer');
    if (ctx.dpopProof === undefined || ctx.dpopProof === '') throw new TesseraTokenError('invalid_dpop_proof', 'dpop_proof_missing');
    if (!ctx.method || !ctx.url) throw new TypeError('verify: a DPoP-bound token needs ctx.method and ctx.url');
    await verifyDpopProof(ctx.dpopProof, {
      method: ctx.method,
      url: ctx.url,
      accessToken: token,
      expectedJkt: jkt,
      algorithms: dpopAlgorithms,
      maxAgeSec: opts.dpopMaxAgeSec ?? 60,
      now,
      isReplay: replay,
    });
  }

  const isHealthy = (): boolean => jwks.loaded && (feed === undefined || feed.isFresh(now()));

  /** The cached, unexpired entry for exactly this token (a hit), or undefined (a miss). */
  const cached = (key: number, token: string, t: number): CacheEntry | undefined => {
    const entry = cache.get(key);
    if (entry === undefined || entry.token !== token) return undefined;
    if (t < entry.expiresAtMs) {
      hits++;
      return entry;
    }
    cache.delete(key);
    return undefined;
  };

  /**
   * Caches a verified token, if admitted. Nothing is allocated for a token that is not: V8 learns from the
   * cache filling up that entries live long and then allocates every entry straight in the old generation,
   * where an entry that is never cached would keep its token and claims alive through the next scavenges.
   */
  const admit = (key: number, token: string, claims: AccessTokenClaims): void => {
    // A DPoP-bound token is admitted at once: the synchronous path hands it to `verify`, which looks it up next.
    if (cache.full && claims.cnf === undefined && !doorkeeper.seenBefore(key)) return;
    cache.set(key, { token, claims, expiresAtMs: (claims.exp + tolerance) * 1000, unrevokedAt: -1 });
  };

  /** A new token's claims if its signature can be checked without waiting (its key is loaded), else undefined. */
  const verifyMiss = (key: number, token: string): AccessTokenClaims | undefined => {
    misses++;
    const claims = verifyAccessTokenJwtNow(token, jwks.keyAtHand, jwtOpts)?.claims;
    if (claims !== undefined) admit(key, token, claims);
    return claims;
  };

  const verifyNow: VerifyNow = (token) => {
    if (geo !== undefined) return undefined;
    const t = now();
    if (feed !== undefined && !feed.isFresh(t)) return undefined;
    const key = keyOf(token);
    const entry = cached(key, token, t);
    if (entry !== undefined) {
      const claims = entry.claims;
      if (claims.cnf !== undefined) return undefined;
      // Known not revoked at this version of the set: no lookups until the feed applies something new.
      const version = revocations.version;
      if (entry.unrevokedAt !== version) {
        if (revocations.isRevoked(claims.sid, claims.sub, claims.iat)) throw new TesseraTokenError('token_revoked', 'revoked');
        entry.unrevokedAt = version;
      }
      return claims;
    }
    const claims = verifyMiss(key, token);
    if (claims === undefined || claims.cnf !== undefined) return undefined;
    if (revocations.isRevoked(claims.sid, claims.sub, claims.iat)) throw new TesseraTokenError('token_revoked', 'revoked');
    return claims;
  };

  const verifier: TesseraVerifier = {
    isHealthy,

    async ready() {
      startBackground();
      await Promise.all([jwks.ensureLoaded(), feed?.whenSynced()]);
    },

    async verify(token, ctx = {}) {
      const t = now();
      // Fail closed: without a live feed we cannot know which sessions were revoked meanwhile.
      if (feed && !feed.isFresh(t)) {
        startBackground();
        throw new TesseraTokenError('revocation_feed_stale', 'feed_silent');
      }
      const key = keyOf(token);
      let claims = cached(key, token, t)?.claims ?? verifyMiss(key, token);
      if (claims === undefined) {
        // First keys still loading, an unknown kid (maybe a rotated key), or a key only jose checks.
        claims = (await verifyAccessTokenJwt(token, jwks.getKey, jwtOpts)).claims;
        admit(key, token, claims);
      }
      if (revocations.isRevoked(claims.sid, claims.sub, claims.iat)) throw new TesseraTokenError('token_revoked', 'revoked');
      if (claims.cnf !== undefined || ctx.scheme === 'dpop') await checkDpop(token, claims, ctx);
      geo?.check(claims, ctx.ip, ctx.userAgent, t, token);
      return claims;
    },

    async close() {
      closed = true;
      clearInterval(sweeper);
      clearTimeout(keyRetry);
      await feed?.close();
      cache.clear();
    },

    stats() {
      return {
        healthy: isHealthy(),
        cache: { size: cache.size, hits, misses },
        revocations: revocations.sizes,
        jwks: jwks.stats(),
        feed: feed?.stats() ?? null,
      };
    },
  };
  nowPaths.set(verifier, verifyNow);
  return verifier;
}
