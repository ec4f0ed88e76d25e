import { verifyDpopProof } from '../dpop.js';
import { TesseraTokenError } from '../errors.js';
import type { CredentialScheme } from './credentials.js';

/** What a DPoP proof is checked against, besides the token itself. */
export interface ProofCheck {
  method: string;
  /** The request's absolute URL, from the configured origin (never the Host header). */
  url: string;
  algorithms: readonly string[];
  maxAgeSec: number;
  now: () => number;
  /** Resolves true when this jti was seen before, and records it otherwise; may throw to refuse. */
  isReplay: (jti: string, ttlMs: number) => Promise<boolean>;
  /** The nonce rule for this request (see DpopVerifyOptions.checkNonce); none: nonces are not checked. */
  checkNonce?: ((nonce: unknown) => boolean) | undefined;
}

/**
 * The DPoP binding rules (RFC 9449 §7.1): which proof, if any, a token must come with. Returns the key
 * thumbprint the proof must be signed by, or undefined when the token is not bound and needs none.
 */
export function requiredProofKey(claims: { cnf?: { jkt: string } }, scheme: CredentialScheme | undefined, dpopProof: string | undefined): string | undefined {
  const jkt = claims.cnf?.jkt;
  if (jkt === undefined) {
    // The DPoP scheme promises a bound token; an unbound one claiming it is a confused or forged request.
    if (scheme === 'dpop') throw new TesseraTokenError('invalid_token', 'dpop_scheme_unbound_token');
    return undefined;
  }
  // A bound token sent as Bearer is what a thief without the private key would do.
  if (scheme === 'bearer') throw new TesseraTokenError('invalid_token', 'dpop_bound_token_as_bearer');
  // A bound browser session (cookie mode): the cookie rides along on its own, the proof is what the
  // page's non-extractable key adds. A copied cookie without a proof from that key is worthless.
  if (dpopProof === undefined || dpopProof === '') throw new TesseraTokenError('invalid_dpop_proof', 'dpop_proof_missing');
  return jkt;
}

/**
 * Verifies the proof of a bound token: signed by the bound key (`jkt`), for this very token (`ath`), this
 * method and URL, fresh and never seen before. A token stolen without its key, or a proof captured on another
 * request, is refused.
 */
export async function verifyBoundProof(token: string, jkt: string, proof: string, check: ProofCheck): Promise<void> {
  await verifyDpopProof(proof, {
    method: check.method,
    url: check.url,
    accessToken: token,
    expectedJkt: jkt,
    algorithms: check.algorithms,
    maxAgeSec: check.maxAgeSec,
    now: check.now,
    isReplay: check.isReplay,
    ...(check.checkNonce ? { checkNonce: check.checkNonce } : {}),
  });
}
