import { TesseraTokenError } from '../errors.js';
import type { CredentialScheme } from './credentials.js';
import { CsrfRefusal, TOKEN_ERRORS, type EdgeErrorCode, type ErrorDescription, type TokenChallenge } from './errors.js';

export const PROBLEM_TYPE_BASE = 'https://tessera.dev/problems/';

/** An RFC 9457 problem document. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
}

export interface Problem {
  status: number;
  headers: Record<string, string>;
  body: ProblemBody;
}

export interface ChallengeOptions {
  /** How the refused credential was presented (decides Bearer or DPoP); undefined when none was. */
  scheme?: CredentialScheme | undefined;
  /** Whether the DPoP scheme is accepted, and with which algorithms (advertised as `algs`). */
  dpop: boolean;
  dpopAlgorithms: readonly string[];
  /** The scopes the operation needs, for `insufficient_scope`. */
  scopes?: readonly string[];
}

/** The problem document for `code`, from the one table (RFC 9457). */
export function problemBody(code: string, title: string, status: number): ProblemBody {
  return { type: `${PROBLEM_TYPE_BASE}${code}`, title, status, code };
}

/**
 * The WWW-Authenticate value for a challenge (RFC 6750 §3, RFC 9449 §7.1). The DPoP challenge names the
 * accepted algorithms; a refusal answers in the scheme the credential came in.
 */
export function wwwAuthenticate(challenge: TokenChallenge, o: ChallengeOptions): string {
  const algs = `algs="${o.dpopAlgorithms.join(' ')}"`;
  switch (challenge) {
    case 'credentials':
      return o.dpop ? `Bearer, DPoP ${algs}` : 'Bearer';
    case 'invalid_token':
      return o.scheme === 'dpop' ? `DPoP error="invalid_token", ${algs}` : 'Bearer error="invalid_token"';
    case 'invalid_dpop_proof':
      return `DPoP error="invalid_dpop_proof", ${algs}`;
    case 'use_dpop_nonce':
      return `DPoP error="use_dpop_nonce", ${algs}`;
    case 'insufficient_scope': {
      const scope = o.scopes !== undefined && o.scopes.length > 0 ? `, scope="${o.scopes.join(' ')}"` : '';
      return `${o.scheme === 'dpop' ? 'DPoP' : 'Bearer'} error="insufficient_scope"${scope}`;
    }
  }
}

/** The headers that go with an edge error: its challenge, Retry-After, and no caching. */
export function edgeHeaders(code: EdgeErrorCode, o: ChallengeOptions, challenge?: TokenChallenge): Record<string, string> {
  const e: ErrorDescription = TOKEN_ERRORS[code];
  const headers: Record<string, string> = { 'content-type': 'application/problem+json', 'cache-control': 'no-store' };
  const c = challenge ?? e.challenge;
  if (c !== undefined) headers['www-authenticate'] = wwwAuthenticate(c, o);
  if (e.retryAfterSec !== undefined) headers['retry-after'] = String(e.retryAfterSec);
  return headers;
}

/** The full answer to an edge error. */
export function edgeProblem(code: EdgeErrorCode, o: ChallengeOptions, challenge?: TokenChallenge): Problem {
  const { status, title } = TOKEN_ERRORS[code];
  return { status, headers: edgeHeaders(code, o, challenge), body: problemBody(code, title, status) };
}

/**
 * Maps a refusal to problem+json with its challenge. The internal reason stays out of the response: it would
 * tell an attacker which check to work around.
 */
export function problemFor(err: TesseraTokenError | CsrfRefusal, o: ChallengeOptions): Problem {
  return edgeProblem(err.code, o);
}

/** 401 for a request without any credential: a challenge without an error code (RFC 6750 §3.1). */
export function missingCredentialsProblem(o: ChallengeOptions): Problem {
  return edgeProblem('invalid_token', o, 'credentials');
}

export function isEdgeRefusal(err: unknown): err is TesseraTokenError | CsrfRefusal {
  return err instanceof TesseraTokenError || err instanceof CsrfRefusal;
}
