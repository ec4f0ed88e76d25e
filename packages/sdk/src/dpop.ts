import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, errors as joseErrors, importJWK, jwtVerify } from 'jose';
import type { JWK } from 'jose';
import { assertAlgorithmAllowList, decodeCompactStrict, FORBIDDEN_HEADER_PARAMS, isAllowedAlg } from './compact.js';
import { TesseraTokenError } from './errors.js';

export interface DpopVerifyOptions {
  /** The request's HTTP method. */
  method: string;
  /** The request's absolute URL as the client addressed it. */
  url: string;
  /** The presented access token; when given, the proof's `ath` must be its hash. */
  accessToken?: string;
  /** The token's `cnf.jkt`; when given, the proof must be signed by that very key. */
  expectedJkt?: string;
  /** Default ['ES256', 'EdDSA']. */
  algorithms?: readonly string[];
  /** Default 60 seconds. */
  maxAgeSec?: number;
  now?: () => number;
  /** Resolves true when this jti was seen before (and records it otherwise). */
  isReplay?: (jti: string, ttlMs: number) => Promise<boolean>;
  /** When given, the proof must carry this server-issued nonce. */
  nonce?: string;
  /**
   * When given, decides whether the proof's `nonce` claim (undefined when absent) is acceptable; a refusal
   * is `use_dpop_nonce`, which tells the client to retry with the `DPoP-Nonce` it is sent.
   */
  checkNonce?: (nonce: unknown) => boolean;
}

export const DEFAULT_DPOP_ALGORITHMS: readonly string[] = ['ES256', 'EdDSA'];
const MAX_PROOF_BYTES = 4096;
const FUTURE_SKEW_SEC = 5;
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];
const DPOP_FORBIDDEN_HEADER_PARAMS = FORBIDDEN_HEADER_PARAMS.filter((p) => p !== 'jwk');
const ASYMMETRIC_ALGS = /^(ES|EdDSA|Ed25519|RS|PS)/;

/** Verifies a DPoP proof (RFC 9449 §4.3) and returns the key's RFC 7638 thumbprint and the proof's jti. */
export async function verifyDpopProof(proof: string, opts: DpopVerifyOptions): Promise<{ jkt: string; jti: string }> {
  const algorithms = opts.algorithms ?? DEFAULT_DPOP_ALGORITHMS;
  assertAlgorithmAllowList(algorithms, 'verifyDpopProof');
  // A proof is signed with the key embedded in it, so a symmetric algorithm would prove nothing.
  for (const a of algorithms) if (!ASYMMETRIC_ALGS.test(a)) throw new TypeError(`verifyDpopProof: ${a} is not asymmetric`);
  const fail = (reason: string): never => {
    throw new TesseraTokenError('invalid_dpop_proof', reason);
  };

  // The embedded `jwk` is the point of a DPoP proof, so it is the one forbidden parameter allowed here.
  const { header } = decodeCompactStrict(proof, MAX_PROOF_BYTES, 'invalid_dpop_proof', DPOP_FORBIDDEN_HEADER_PARAMS);
  if (typeof header.typ !== 'string' || header.typ.toLowerCase() !== 'dpop+jwt') fail('typ_not_dpop_jwt');
  if (!isAllowedAlg(header.alg, algorithms)) fail('alg_not_allowed');
  const jwk = header.jwk as Record<string, unknown> | undefined;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return fail('jwk_missing');
  // A private key in the header means the client leaked it; the key can no longer prove possession.
  for (const m of PRIVATE_JWK_MEMBERS) if (m in jwk) fail('jwk_has_private_members');
  if (jwk.kty !== 'EC' && jwk.kty !== 'OKP') fail('jwk_kty_not_allowed');

  let payload: Record<string, unknown>;
  try {
    const key = await importJWK(jwk as JWK, header.alg as string);
    ({ payload } = await jwtVerify(proof, key, {
      algorithms: [header.alg as string],
      typ: 'dpop+jwt',
      requiredClaims: ['jti', 'htm', 'htu', 'iat'],
      // Time is checked below with DPoP's own window; jose only needs a date that never fails exp/nbf.
      currentDate: new Date(0),
    }));
  } catch (err) {
    return fail(err instanceof joseErrors.JOSEError ? err.code : 'signature_invalid');
  }

  if (payload.htm !== opts.method) fail('htm_mismatch');
  const expectedHtu = normalizeHtu(opts.url);
  if (expectedHtu === null) throw new TypeError('verifyDpopProof: url must be an absolute http(s) URL');
  // htm/htu stop a proof captured on one endpoint (or another server) from being replayed on this one.
  if (typeof payload.htu !== 'string' || normalizeHtu(payload.htu) !== expectedHtu) fail('htu_mismatch');

  // Before the time checks: a proof signed in advance (a future `iat`) still needs a nonce we issued lately.
  if (opts.checkNonce && !opts.checkNonce(payload.nonce)) {
    throw new TesseraTokenError('use_dpop_nonce', payload.nonce === undefined ? 'nonce_missing' : 'nonce_stale');
  }

  const maxAgeSec = opts.maxAgeSec ?? 60;
  const nowSec = (opts.now ?? Date.now)() / 1000;
  if (typeof payload.iat !== 'number' || !Number.isFinite(payload.iat)) return fail('iat_malformed');
  if (payload.iat < nowSec - maxAgeSec) fail('iat_too_old');
  if (payload.iat > nowSec + FUTURE_SKEW_SEC) fail('iat_in_future');

  if (opts.accessToken !== undefined) {
    // ath binds the proof to one token: a proof stolen alongside another token cannot be reused with it.
    if (payload.ath !== accessTokenHash(opts.accessToken)) fail('ath_mismatch');
  }
  if (opts.nonce !== undefined && payload.nonce !== opts.nonce) fail('nonce_mismatch');

  const jkt = await calculateJwkThumbprint(jwk, 'sha256');
  if (opts.expectedJkt !== undefined && jkt !== opts.expectedJkt) fail('jkt_mismatch');

  const jti = payload.jti;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) return fail('jti_malformed');
  // Checked last, after the signature: unsigned garbage must not be able to fill the replay cache.
  if (opts.isReplay && (await opts.isReplay(jti, (maxAgeSec + FUTURE_SKEW_SEC) * 1000))) fail('jti_replayed');
  return { jkt, jti };
}

/** `ath`: base64url(SHA-256(access token)), RFC 9449 §4.2. */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken).digest('base64url');
}

/**
 * htu is compared without query and fragment (RFC 9449 §4.3), after URL normalisation: scheme and host
 * lower-cased, default port dropped, dot segments resolved.
 */
export function normalizeHtu(url: string): string | null {
  try {
    const u = new URL(url);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return null;
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return null;
  }
}
