import { TesseraTokenError, type AccessTokenClaims } from '@tessera/sdk';
import { verifiedTokens, type VerifiedTokens } from '@tessera/sdk/edge';
import * as jose from 'jose';
import type { Clock } from '../lib/clock.js';
import { systemClock } from '../lib/clock.js';
import { randomId } from './crypto.js';
import { TesseraError } from './errors.js';
import { signJws } from './jws.js';
import type { KeyManager } from './keys.js';

export type { AccessTokenClaims };

export interface AccessTokenInput {
  sub: string;
  sid: string;
  /** when the user authenticated, epoch ms */
  authTime: number;
  amr: string[];
  roles: string[];
  scope?: string;
  /** DPoP key thumbprint (RFC 9449): the token is then sender-constrained */
  jkt?: string;
  /** where the token is issued (coarse), for resource servers' local impossible-travel check */
  loc?: { lat: number; lon: number; acc?: number };
}

export interface IssuedAccessToken {
  token: string;
  expiresIn: number;
  jti: string;
  /** epoch seconds */
  exp: number;
}

export interface TokenServiceOptions {
  issuer: string;
  audience: string;
  accessTtlSec: number;
  clock?: Clock;
}

/** Issues RFC 9068 access tokens and verifies them for the server's own protected routes. */
export class TokenService {
  readonly #keys: KeyManager;
  readonly #opts: TokenServiceOptions;
  readonly #clock: Clock;
  readonly #verified: VerifiedTokens;
  #withdrawals: number;

  constructor(keys: KeyManager, opts: TokenServiceOptions) {
    this.#keys = keys;
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    // The SDK's verifier and its cache of verified tokens, with the configured algorithm as the only one
    // allowed: the token's own `alg` never chooses how it is checked.
    this.#verified = verifiedTokens(keys.getVerificationKey, {
      issuer: opts.issuer,
      audience: opts.audience,
      algorithms: [keys.alg],
      now: () => this.#clock.now(),
    });
    this.#withdrawals = keys.withdrawals;
  }

  async issueAccessToken(input: AccessTokenInput): Promise<IssuedAccessToken> {
    const { kid, alg, key } = this.#keys.signingKey();
    const iat = Math.floor(this.#clock.now() / 1000);
    const exp = iat + this.#opts.accessTtlSec;
    const jti = randomId();
    const claims: jose.JWTPayload = {
      iss: this.#opts.issuer,
      sub: input.sub,
      aud: this.#opts.audience,
      exp,
      iat,
      jti,
      sid: input.sid,
      auth_time: Math.floor(input.authTime / 1000),
      amr: input.amr,
      roles: input.roles,
      ...(input.scope !== undefined ? { scope: input.scope } : {}),
      ...(input.jkt !== undefined ? { cnf: { jkt: input.jkt } } : {}),
      ...(input.loc !== undefined ? { loc: input.loc } : {}),
    };
    const token = signJws(alg, 'at+jwt', kid, claims, key);
    return { token, expiresIn: this.#opts.accessTtlSec, jti, exp };
  }

  /**
   * The same verifier resource servers use (the SDK): a token seen before is a cache lookup until it
   * expires. Revocation is the caller's session check, made on every request, cached token or not.
   */
  async verifyAccessToken(token: string): Promise<AccessTokenClaims> {
    // A cached token must not outlive its key: one withdrawn since (retired, removed) empties the cache.
    if (this.#keys.withdrawals !== this.#withdrawals) {
      this.#withdrawals = this.#keys.withdrawals;
      this.#verified.clear();
    }
    try {
      return await this.#verified.verify(token);
    } catch (err) {
      if (err instanceof TesseraTokenError) throw new TesseraError('invalid_token', { reason: `${err.code}: ${err.reason}` });
      // Fail closed: whatever else went wrong, this token is not accepted.
      throw new TesseraError('invalid_token', { reason: `verification failed: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
}
