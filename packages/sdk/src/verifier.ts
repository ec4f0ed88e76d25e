import { requiredProofKey, verifyBoundProof, type ProofCheck } from './edge/binding.js';
import { TesseraTokenError } from './errors.js';
import { RevocationFeed } from './feed.js';
import { GeoCheck } from './geo.js';
import { JwksCache } from './jwks.js';
import { verifyAccessTokenJwt, verifyAccessTokenJwtNow } from './jwt.js';
import type { AccessTokenClaims } from './jwt.js';
import { ReplayCache } from './replay.js';
import { RevocationSet } from './revocations.js';
import { Background } from './verifier/background.js';
import { compileVerifierOptions } from './verifier/options.js';
import type { CompiledVerifierOptions, TesseraVerifier, VerifierOptions, VerifyContext } from './verifier/options.js';
import { keyOf, TokenCache } from './verifier/token-cache.js';
import { travelReporter } from './verifier/travel-report.js';

export type { TesseraVerifier, VerifierOptions, VerifierStats, VerifyContext } from './verifier/options.js';

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

/** The parts a verifier is made of, and the named checks every token goes through. */
class Checks {
  readonly jwks: JwksCache;
  readonly cache: TokenCache;
  readonly revocations = new RevocationSet();
  readonly feed: RevocationFeed | undefined;
  readonly geo: GeoCheck | undefined;
  readonly proofCheck: Omit<ProofCheck, 'method' | 'url'>;

  constructor(
    readonly o: CompiledVerifierOptions,
    opts: VerifierOptions,
  ) {
    this.jwks = new JwksCache({ issuer: o.issuer, algorithms: o.algorithms, fetch: o.fetch, now: o.now });
    this.cache = new TokenCache(o.cacheSize, o.jwt.tolerance);
    this.feed = o.feed && new RevocationFeed({ issuer: o.issuer, ...o.feed, fetch: o.fetch, now: o.now, onItem: (item) => void this.revocations.add(item), ...(opts.onError ? { onError: opts.onError } : {}) });
    const report = o.credentials && travelReporter(o.issuer, o.credentials, o.fetch, opts.onError);
    this.geo = opts.geo && new GeoCheck(opts.geo, report);
    const isReplay = opts.isDpopReplay ?? new ReplayCache(o.dpop.replayCacheSize, o.now).isReplay;
    this.proofCheck = { algorithms: o.dpop.algorithms, maxAgeSec: o.dpop.maxAgeSec, now: o.now, isReplay };
  }

  isFresh(t: number): boolean {
    return this.feed === undefined || this.feed.isFresh(t);
  }

  /** A cached token's claims, or a new one's if its key is at hand (verified and admitted), else undefined. */
  claimsNow(key: number, token: string, t: number): AccessTokenClaims | undefined {
    const entry = this.cache.get(key, token, t);
    if (entry !== undefined) return entry.claims;
    this.cache.misses++;
    const claims = verifyAccessTokenJwtNow(token, this.jwks.keyAtHand, this.o.jwt)?.claims;
    if (claims !== undefined) this.cache.admit(key, token, claims);
    return claims;
  }

  /** First keys still loading, an unknown kid (maybe a rotated key), or a key only jose checks. */
  async claimsLater(key: number, token: string): Promise<AccessTokenClaims> {
    const claims = (await verifyAccessTokenJwt(token, this.jwks.getKey, this.o.jwt)).claims;
    this.cache.admit(key, token, claims);
    return claims;
  }

  refuseRevoked(claims: AccessTokenClaims): void {
    if (this.revocations.isRevoked(claims.sid, claims.sub, claims.iat)) throw new TesseraTokenError('token_revoked', 'revoked');
  }

  async checkBinding(token: string, claims: AccessTokenClaims, ctx: VerifyContext): Promise<void> {
    const proof = ctx.dpopProof;
    const jkt = requiredProofKey(claims, ctx.scheme, proof);
    if (jkt === undefined || proof === undefined) return;
    // A bound browser cookie where the guard checks no DPoP (no origin to build htu from) is refused, not a 500.
    if (ctx.scheme === 'cookie' && !ctx.url) throw new TesseraTokenError('invalid_token', 'dpop_not_accepted');
    if (!ctx.method || !ctx.url) throw new TypeError('verify: a DPoP-bound token needs ctx.method and ctx.url');
    await verifyBoundProof(token, jkt, proof, { ...this.proofCheck, method: ctx.method, url: ctx.url, checkNonce: ctx.checkNonce });
  }
}

/** The synchronous path; see VerifyNow. */
function makeVerifyNow(c: Checks): VerifyNow {
  return (token) => {
    if (c.geo !== undefined) return undefined;
    const t = c.o.now();
    if (!c.isFresh(t)) return undefined;
    const key = keyOf(token);
    const entry = c.cache.get(key, token, t);
    if (entry !== undefined) {
      const claims = entry.claims;
      if (claims.cnf !== undefined) return undefined;
      // Known not revoked at this version of the set: no lookups until the feed applies something new.
      const version = c.revocations.version;
      if (entry.unrevokedAt !== version) {
        c.refuseRevoked(claims);
        entry.unrevokedAt = version;
      }
      return claims;
    }
    c.cache.misses++;
    const claims = verifyAccessTokenJwtNow(token, c.jwks.keyAtHand, c.o.jwt)?.claims;
    if (claims === undefined) return undefined;
    c.cache.admit(key, token, claims);
    if (claims.cnf !== undefined) return undefined;
    c.refuseRevoked(claims);
    return claims;
  };
}

export function createVerifier(opts: VerifierOptions): TesseraVerifier {
  const c = new Checks(compileVerifierOptions(opts), opts);
  const now = c.o.now;
  const background = new Background(c.jwks, c.feed, c.revocations, now, opts.onError);
  const isHealthy = (): boolean => c.jwks.loaded && c.isFresh(now());

  const verifier: TesseraVerifier = {
    isHealthy,

    async ready() {
      background.start();
      await Promise.all([c.jwks.ensureLoaded(), c.feed?.whenSynced()]);
    },

    async verify(token, ctx = {}) {
      const t = now();
      // Revocations we have not heard of: without a live feed, fail closed.
      if (!c.isFresh(t)) {
        background.start();
        throw new TesseraTokenError('revocation_feed_stale', 'feed_silent');
      }
      // Forged, tampered, expired or foreign tokens: the signature and claims (or the cache of both).
      const key = keyOf(token);
      const claims = c.claimsNow(key, token, t) ?? (await c.claimsLater(key, token));
      // A signed-out session: its tokens stop working now, not at exp.
      c.refuseRevoked(claims);
      // A stolen bound token without its key, or a proof captured on another request.
      if (claims.cnf !== undefined || ctx.scheme === 'dpop') await c.checkBinding(token, claims, ctx);
      // A copied token used from a place nobody could have reached since it was issued.
      c.geo?.check(claims, ctx.ip, ctx.userAgent, t, token);
      return claims;
    },

    async close() {
      await background.close();
      c.cache.clear();
    },

    stats() {
      const { size, hits, misses } = c.cache;
      return { healthy: isHealthy(), cache: { size, hits, misses }, revocations: c.revocations.sizes, jwks: c.jwks.stats(), feed: c.feed?.stats() ?? null };
    },
  };
  nowPaths.set(verifier, makeVerifyNow(c));
  return verifier;
}
