import type { TesseraTokenErrorCode } from '../errors.js';

/** Every refusal of the edge policy: the token errors, and a cookie request's failed CSRF check. */
export type EdgeErrorCode = TesseraTokenErrorCode | 'csrf_failed';

/**
 * The `error` of the WWW-Authenticate challenge an error is answered with (RFC 6750 §3, RFC 9449 §7.1):
 * `credentials` is a challenge without an error (no credential was sent, or another one is needed).
 */
export type TokenChallenge = 'credentials' | 'invalid_token' | 'invalid_dpop_proof' | 'use_dpop_nonce' | 'insufficient_scope';

/** One row of an error table: what a client sees, and what docs/errors.md says about it. */
export interface ErrorDescription {
  status: number;
  /** The problem document's `title`: public, stable, never the internal reason. */
  title: string;
  /** What happened, for the people reading docs/errors.md. */
  meaning: string;
  /** What the client (or the operator) should do about it. */
  action: string;
  /** The WWW-Authenticate challenge sent with it; every 401 has one. */
  challenge?: TokenChallenge;
  /** Sent as Retry-After, seconds. */
  retryAfterSec?: number;
}

/**
 * The token errors: one table for the SDK's resource servers and for Tessera's own routes, whose error
 * table extends it. Codes are stable; clients `switch` on `code`.
 */
export const TOKEN_ERRORS = {
  invalid_token: {
    status: 401,
    title: 'The access token is missing, invalid or expired',
    meaning:
      'No access token was sent, or it is malformed, expired, signed by an unknown key or meant for another audience; ' +
      'or it was sent more than one way (two Authorization headers, a header and the cookie, two cookies); ' +
      'or a DPoP-bound token came without the DPoP scheme, or an unbound token with it.',
    action:
      'Refresh the access token (`POST /v1/token`) or sign in again. Send it exactly once: `Authorization: Bearer <token>`, ' +
      '`Authorization: DPoP <token>` with a `DPoP` proof, or the access-token cookie.',
    challenge: 'invalid_token',
  },
  token_revoked: {
    status: 401,
    title: 'The access token has been revoked',
    meaning: 'The session was signed out (by the user, an administrator or a risk rule), or the token was used from a place nobody could have reached since it was issued.',
    action: 'Sign in again; refreshing the same session is refused too.',
    challenge: 'invalid_token',
  },
  invalid_dpop_proof: {
    status: 401,
    title: 'The DPoP proof is invalid',
    meaning:
      'The token is DPoP-bound and the `DPoP` header is missing or repeated, or its proof does not fit this request ' +
      '(method `htm`, URL `htu`, token hash `ath`, the bound key), is too old or from the future, was already used, ' +
      'or the replay cache is full and refuses new proofs rather than forget live ones.',
    action: 'Sign a new proof for every request with the key the token is bound to, carrying this request\'s `htm`, `htu` and `ath`, and retry.',
    challenge: 'invalid_dpop_proof',
  },
  use_dpop_nonce: {
    status: 401,
    title: 'The DPoP proof needs a fresh server nonce',
    meaning:
      'The proof carries no `nonce`, or one this server did not issue within the last two nonce windows (RFC 9449 §8, §9). ' +
      'Browser (cookie-mode) proofs always need one, so a proof cannot be signed in advance for later use.',
    action: 'Sign a new proof with the `nonce` claim set to the `DPoP-Nonce` response header of this answer, and retry.',
    challenge: 'use_dpop_nonce',
  },
  insufficient_scope: {
    status: 403,
    title: 'The token lacks the required scope or role',
    meaning: 'The token is valid but lacks a role, or one of the scopes, that this operation requires.',
    action: 'Request a token with the scopes named in the challenge\'s `scope` attribute, or use an account that has the role.',
    challenge: 'insufficient_scope',
  },
  revocation_feed_stale: {
    status: 503,
    title: 'Token revocation status is unavailable',
    meaning:
      'The resource server has not heard from the revocation feed within its staleness bound, so it cannot tell whether ' +
      'a token was revoked meanwhile, and refuses every token (it fails closed).',
    action: 'Retry after `Retry-After` seconds. Operators: check that the resource server reaches Tessera and that its client credentials are valid.',
    retryAfterSec: 5,
  },
  csrf_failed: {
    status: 403,
    title: 'Cross-site request refused',
    meaning:
      'A cookie-authenticated unsafe request (POST, PUT, PATCH, DELETE) lacked an `X-CSRF-Token` header equal to the CSRF cookie, ' +
      'or came from an `Origin` that is not allowed.',
    action: 'Copy the CSRF cookie (`__Host-tessera_csrf`) into `X-CSRF-Token` on every unsafe request, from an allowed origin.',
  },
} as const satisfies Record<EdgeErrorCode, ErrorDescription>;

/** A cookie-authenticated unsafe request without a matching CSRF token; `reason` is internal, as for token errors. */
export class CsrfRefusal extends Error {
  readonly code = 'csrf_failed';
  readonly reason: string;

  constructor(reason: string) {
    super(`csrf_failed: ${reason}`);
    this.name = 'CsrfRefusal';
    this.reason = reason;
  }
}
