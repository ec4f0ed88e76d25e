import { errors as joseErrors, jwtVerify } from 'jose';
import type * as jose from 'jose';
import { assertAlgorithmAllowList, decodeCompactParts, isAllowedAlg } from './compact.js';
import { TesseraTokenError } from './errors.js';
import { nativeKeyFor, verifyNative } from './native-verify.js';

export { TesseraTokenError, isTesseraTokenError } from './errors.js';
export type { TesseraTokenErrorCode } from './errors.js';

export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  nbf?: number;
  jti: string;
  sid: string;
  auth_time: number;
  amr: string[];
  roles: string[];
  scope?: string;
  cnf?: { jkt: string };
  [k: string]: unknown;
}

export type KeyResolver = jose.JWTVerifyGetKey;

export interface JwtVerifyOptions {
  issuer: string;
  audience: string | string[];
  algorithms: string[];
  /** Default 30, capped at 60: a larger leeway would stretch every token's lifetime. */
  clockToleranceSec?: number;
  /** Default 8192 (the contract's 8 KiB). */
  maxTokenBytes?: number;
  /** Milliseconds since the epoch. */
  now?: () => number;
}

export const DEFAULT_CLOCK_TOLERANCE_SEC = 30;
export const MAX_CLOCK_TOLERANCE_SEC = 60;
export const DEFAULT_MAX_TOKEN_BYTES = 8192;

const REQUIRED_CLAIMS = ['iss', 'aud', 'exp', 'iat', 'sub', 'jti', 'sid', 'auth_time', 'amr', 'roles'];
// The order in which jose reports a missing claim (its required claims, then aud and iss, reversed).
const PRESENCE_ORDER = [...new Set([...REQUIRED_CLAIMS, 'aud', 'iss'].reverse())];

export function clockToleranceOf(opts: { clockToleranceSec?: number }): number {
  const t = opts.clockToleranceSec ?? DEFAULT_CLOCK_TOLERANCE_SEC;
  if (!Number.isFinite(t) || t < 0) throw new TypeError('clockToleranceSec must be a non-negative number');
  return Math.min(t, MAX_CLOCK_TOLERANCE_SEC);
}

/**
 * Verifies a Tessera access token (RFC 9068 profile). Cheap structural refusals come first, before any key
 * lookup or signature check; then the signature is checked with *our* algorithm allow-list, never the token's
 * choice (node:crypto for Tessera's own EdDSA and ES256 keys, jose for any other key), and the claims.
 */
export async function verifyAccessTokenJwt(
  token: string,
  getKey: KeyResolver,
  opts: JwtVerifyOptions,
): Promise<{ claims: AccessTokenClaims; header: jose.ProtectedHeaderParameters }> {
  assertAlgorithmAllowList(opts.algorithms, 'verifyAccessTokenJwt');
  const tolerance = clockToleranceOf(opts);
  const parts = decodeCompactParts(token, opts.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES, 'invalid_token');
  const header = parts.header;
  // Algorithm confusion (`none`, HS256 keyed with a public key) is stopped here and again inside jose.
  if (!isAllowedAlg(header.alg, opts.algorithms)) throw new TesseraTokenError('invalid_token', 'alg_not_allowed');
  // Only access tokens: an ID token, mfa_token or DPoP proof signed by the same key must not pass as one.
  if (!isAccessTokenTyp(header.typ)) throw new TesseraTokenError('invalid_token', 'typ_not_at_jwt');

  const nowMs = (opts.now ?? Date.now)();
  let payload: jose.JWTPayload;
  let protectedHeader: jose.ProtectedHeaderParameters;
  try {
    // The resolver gets what jose would give it: the parsed header and the flattened JWS.
    const [protectedB64, payloadB64, signatureB64] = parts.segments;
    const key = await getKey(header as jose.JWTHeaderParameters, { payload: payloadB64, protected: protectedB64, signature: signatureB64 });
    const native = nativeKeyFor(header.alg, key);
    if (native !== undefined) {
      // The same checks jose makes, in its order and with its error codes, after a node:crypto signature check.
      if (!verifyNative(header.alg, native, parts.signingInput, parts.signature)) throw new TesseraTokenError('invalid_token', 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
      payload = validateClaimsSet(parts.payload, opts, tolerance, nowMs);
      protectedHeader = header;
    } else {
      ({ payload, protectedHeader } = await jwtVerify(token, key, {
        issuer: opts.issuer,
        audience: opts.audience,
        algorithms: opts.algorithms,
        typ: 'at+jwt',
        clockTolerance: tolerance,
        requiredClaims: REQUIRED_CLAIMS,
        currentDate: new Date(nowMs),
      }));
    }
  } catch (err) {
    throw toTokenError(err);
  }
  const claims = assertClaimsShape(payload);
  // jose accepts any past or future iat; a token "issued" in the future was minted with a wrong clock or forged.
  if (claims.iat > nowMs / 1000 + tolerance) throw new TesseraTokenError('invalid_token', 'iat_in_future');
  return { claims, header: protectedHeader };
}

function failed(claim: string): never {
  throw new TesseraTokenError('invalid_token', `ERR_JWT_CLAIM_VALIDATION_FAILED:${claim}`);
}

function bad(claim: string): never {
  throw new TesseraTokenError('invalid_token', `claim_${claim}_malformed`);
}

/** jose's JWT claims-set validation (presence, iss, aud, nbf, exp) for the options this SDK uses. */
function validateClaimsSet(p: Record<string, unknown>, opts: JwtVerifyOptions, tolerance: number, nowMs: number): jose.JWTPayload {
  for (const claim of PRESENCE_ORDER) if (!Object.hasOwn(p, claim)) failed(claim);
  if (!(Array.isArray(opts.issuer) ? (opts.issuer as unknown[]) : [opts.issuer]).includes(p.iss)) failed('iss');
  const audiences = typeof opts.audience === 'string' ? [opts.audience] : opts.audience;
  const aud = p.aud;
  const audOk = typeof aud === 'string' ? audiences.includes(aud) : Array.isArray(aud) ? audiences.some((a) => aud.includes(a)) : false;
  if (!audOk) failed('aud');
  const now = Math.floor(new Date(nowMs).getTime() / 1000);
  if (!Number.isFinite(now)) throw new TesseraTokenError('invalid_token', 'verification_failed');
  if (typeof p.iat !== 'number') failed('iat');
  if (p.nbf !== undefined && typeof p.nbf !== 'number') failed('nbf');
  if (typeof p.nbf === 'number' && p.nbf > now + tolerance) failed('nbf');
  if (typeof p.exp !== 'number') failed('exp');
  if ((p.exp) <= now - tolerance) throw new TesseraTokenError('invalid_token', 'ERR_JWT_EXPIRED');
  return p;
}

export function isAccessTokenTyp(typ: unknown): boolean {
  if (typeof typ !== 'string') return false;
  const t = typ.toLowerCase();
  return t === 'at+jwt' || t === 'application/at+jwt';
}

function toTokenError(err: unknown): TesseraTokenError {
  if (err instanceof TesseraTokenError) return err;
  if (err instanceof joseErrors.JWTClaimValidationFailed) return new TesseraTokenError('invalid_token', `${err.code}:${err.claim}`);
  if (err instanceof joseErrors.JOSEError) return new TesseraTokenError('invalid_token', err.code);
  return new TesseraTokenError('invalid_token', 'verification_failed');
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

function isNonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

/** jose checks presence and the registered time claims; we check every type the rest of the code relies on. */
function assertClaimsShape(p: jose.JWTPayload): AccessTokenClaims {
  if (!isNonEmptyString(p.iss)) bad('iss');
  if (!isNonEmptyString(p.sub)) bad('sub');
  if (!(typeof p.aud === 'string' || isStringArray(p.aud))) bad('aud');
  if (typeof p.exp !== 'number' || !Number.isFinite(p.exp)) bad('exp');
  if (typeof p.iat !== 'number' || !Number.isFinite(p.iat)) bad('iat');
  if (p.nbf !== undefined && typeof p.nbf !== 'number') bad('nbf');
  if (!isNonEmptyString(p.jti)) bad('jti');
  if (!isNonEmptyString(p.sid)) bad('sid');
  if (typeof p.auth_time !== 'number' || !Number.isFinite(p.auth_time)) bad('auth_time');
  if (!isStringArray(p.amr)) bad('amr');
  if (!isStringArray(p.roles)) bad('roles');
  if (p.scope !== undefined && typeof p.scope !== 'string') bad('scope');
  if (p.cnf !== undefined) {
    const cnf: unknown = p.cnf;
    if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf) || !isNonEmptyString((cnf as { jkt?: unknown }).jkt)) bad('cnf');
  }
  return p as AccessTokenClaims;
}
