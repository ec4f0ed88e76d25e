import { compileJwtOptions, verifyAccessTokenJwt } from '../jwt.js';
import type { AccessTokenClaims, JwtVerifyOptions, KeyResolver } from '../jwt.js';
import { keyOf, TokenCache } from '../verifier/token-cache.js';

export interface VerifiedTokensOptions extends JwtVerifyOptions {
  /** Verified tokens kept in memory. Default 10 000. */
  cacheSize?: number;
}

export interface VerifiedTokens {
  /**
   * The claims of a token whose signature and claims verified (verifyAccessTokenJwt), or the refusal it
   * throws. A token verified before is a map lookup until its `exp` (plus the clock tolerance).
   */
  verify(token: string): Promise<AccessTokenClaims>;
  /** Forgets every verified token: call it when a verification key is withdrawn. */
  clear(): void;
  stats(): { size: number; hits: number; misses: number };
}

/**
 * The verifier's cache of verified tokens (createVerifier's, with its TinyLFU admission), for an issuer
 * checking its own tokens with keys it holds. Revocation is not its business: the caller checks the
 * session after every call, cached or not.
 */
export function verifiedTokens(getKey: KeyResolver, opts: VerifiedTokensOptions): VerifiedTokens {
  const jwt = compileJwtOptions(opts);
  const cache = new TokenCache(opts.cacheSize ?? 10_000, jwt.tolerance);
  // Bumped by clear(): a verification in flight across a clear() must not put back a token of the withdrawn key.
  let epoch = 0;
  return {
    async verify(token) {
      const key = keyOf(token);
      // A hit compares the whole token, so a tampered token sharing a cached one's signature is a miss.
      const entry = cache.get(key, token, jwt.now());
      if (entry !== undefined) return entry.claims;
      cache.misses++;
      const started = epoch;
      const { claims } = await verifyAccessTokenJwt(token, getKey, jwt);
      if (started === epoch) cache.admit(key, token, claims);
      return claims;
    },
    clear() {
      epoch++;
      cache.clear();
    },
    stats: () => ({ size: cache.size, hits: cache.hits, misses: cache.misses }),
  };
}
