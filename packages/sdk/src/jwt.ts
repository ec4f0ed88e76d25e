import { errors as joseErrors, jwtVerify } from 'jose';
import type * as jose from 'jose';
import type { KeyObject } from 'node:crypto';
import { assertAlgorithmAllowList, decodeCompactParts, FORBIDDEN_HEADER_PARAMS, isAllowedAlg, segmentsOf } from './compact.js';
import type { DecodedCompactParts, KnownHeaders } from './compact.js';
import { TesseraTokenError } from './errors.js';
import { nativeKeyFor, resolveEd25519Backend, verifyNative } from './native-verify.js';
import type { Ed25519Backend } from './native-verify.js';

export type { Ed25519Backend } from './native-verify.js';

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
  /** Who checks Ed25519 signatures; default 'auto' (libsodium when `sodium-native` loads, else node:crypto). */
  ed25519Backend?: Ed25519Backend;
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
  options: JwtVerifyOptions | CompiledJwtOptions,
): Promise<{ claims: AccessTokenClaims; header: jose.ProtectedHeaderParameters }> {
  const opts = compiledOf(options);
  const parts = precheck(token, opts);
  const nowMs = opts.now();
  const header = parts.header;
  let payload: jose.JWTPayload;
  let protectedHeader: jose.ProtectedHeaderParameters;
  try {
    // The resolver gets what jose would give it: the parsed header and the flattened JWS.
    const [protectedB64, payloadB64, signatureB64] = segmentsOf(parts);
    const key = await getKey(header as jose.JWTHeaderParameters, { payload: payloadB64, protected: protectedB64, signature: signatureB64 });
    const native = nativeKeyFor(header.alg as string, key);
    if (native !== undefined) {
      payload = checkNative(parts, native, opts, nowMs);
      protectedHeader = header;
    } else {
      ({ payload, protectedHeader } = await jwtVerify(token, key, {
        issuer: opts.issuer,
        audience: opts.audience,
        algorithms: [...opts.algorithms],
        typ: 'at+jwt',
        clockTolerance: opts.tolerance,
        requiredClaims: REQUIRED_CLAIMS,
        currentDate: new Date(nowMs),
      }));
    }
  } catch (err) {
    throw toTokenError(err);
  }
  return { claims: finalClaims(payload, opts.tolerance, nowMs), header: protectedHeader };
}

/**
 * verifyAccessTokenJwt without a promise, for the hot path: the same checks in the same order with the same
 * refusals, or undefined when it cannot finish without waiting (`keyAtHand` has no key yet) or the key is
 * not one node:crypto checks (jose then does, asynchronously). Either way the caller then runs
 * verifyAccessTokenJwt.
 */
export function verifyAccessTokenJwtNow(
  token: string,
  keyAtHand: (header: Record<string, unknown>) => unknown,
  options: JwtVerifyOptions | CompiledJwtOptions,
): { claims: AccessTokenClaims; header: jose.ProtectedHeaderParameters } | undefined {
  const opts = compiledOf(options);
  const parts = precheck(token, opts);
  const nowMs = opts.now();
  const header = parts.header;
  let payload: jose.JWTPayload;
  try {
    const native = nativeKeyFor(header.alg as string, keyAtHand(header));
    if (native === undefined) return undefined;
    payload = checkNative(parts, native, opts, nowMs);
  } catch (err) {
    throw toTokenError(err);
  }
  return { claims: finalClaims(payload, opts.tolerance, nowMs), header };
}

/**
 * Header segments of tokens whose signature verified, decoded and checked, by their exact text. An issuer
 * signs every token of one key with the same header, so a repeated one costs a string comparison (or a Map
 * lookup) instead of a base64url decode and a strict JSON parse. Only flat headers are kept, frozen, so no
 * caller can change what the next token is checked against; the map is bounded (cleared when full).
 */
class SignedHeaders implements KnownHeaders {
  static readonly MAX = 64;
  readonly #bySegment = new Map<string, Record<string, unknown>>();
  /** The last one found: compared in place, without slicing the segment out of the token and hashing it. */
  #lastSegment = '';
  #last: Record<string, unknown> | undefined;

  find(token: string, dot1: number): Record<string, unknown> | undefined {
    if (dot1 === this.#lastSegment.length && token.startsWith(this.#lastSegment)) return this.#last;
    const segment = token.slice(0, dot1);
    const header = this.#bySegment.get(segment);
    if (header !== undefined) {
      this.#lastSegment = segment;
      this.#last = header;
    }
    return header;
  }

  remember(segment: string, header: Record<string, unknown>): void {
    for (const k in header) if (typeof header[k] === 'object' && header[k] !== null) return;
    if (this.#bySegment.size >= SignedHeaders.MAX) this.#bySegment.clear();
    this.#bySegment.set(segment, Object.freeze(header));
  }
}
const signedHeaders = new SignedHeaders();

/**
 * Options checked once: the allow-list copied and frozen (so checking it per token is not needed, and a
 * caller mutating its own array later changes nothing), the leeway capped, the defaults filled in.
 */
export interface CompiledJwtOptions {
  readonly issuer: string;
  readonly audience: string | string[];
  readonly algorithms: readonly string[];
  readonly tolerance: number;
  readonly maxTokenBytes: number;
  readonly now: () => number;
  readonly ed25519: 'libsodium' | 'node:crypto';
}
const compiled = new WeakSet<CompiledJwtOptions>();

export function compileJwtOptions(opts: JwtVerifyOptions): CompiledJwtOptions {
  assertAlgorithmAllowList(opts.algorithms, 'verifyAccessTokenJwt');
  const c: CompiledJwtOptions = Object.freeze({
    issuer: opts.issuer,
    audience: Array.isArray(opts.audience) ? Object.freeze([...opts.audience]) as string[] : opts.audience,
    algorithms: Object.freeze([...opts.algorithms]),
    tolerance: clockToleranceOf(opts),
    maxTokenBytes: opts.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES,
    now: opts.now ?? Date.now,
    ed25519: resolveEd25519Backend(opts.ed25519Backend),
  });
  compiled.add(c);
  return c;
}

const compiledOf = (opts: JwtVerifyOptions | CompiledJwtOptions): CompiledJwtOptions =>
  compiled.has(opts as CompiledJwtOptions) ? (opts as CompiledJwtOptions) : compileJwtOptions(opts as JwtVerifyOptions);

/** Everything before the key: size, structure, canonical encoding, strict JSON, forbidden headers, alg, typ. */
function precheck(token: string, o: CompiledJwtOptions): DecodedCompactParts {
  const parts = decodeCompactParts(token, o.maxTokenBytes, 'invalid_token', FORBIDDEN_HEADER_PARAMS, signedHeaders);
  const header = parts.header;
  // Algorithm confusion (`none`, HS256 keyed with a public key) is stopped here and again inside jose.
  if (!isAllowedAlg(header.alg, o.algorithms)) throw new TesseraTokenError('invalid_token', 'alg_not_allowed');
  // Only access tokens: an ID token, mfa_token or DPoP proof signed by the same key must not pass as one.
  if (!isAccessTokenTyp(header.typ)) throw new TesseraTokenError('invalid_token', 'typ_not_at_jwt');
  return parts;
}

/** The same checks jose makes, in its order and with its error codes, after a node:crypto signature check. */
function checkNative(parts: DecodedCompactParts, key: KeyObject, opts: CompiledJwtOptions, nowMs: number): jose.JWTPayload {
  const alg = parts.header.alg as string;
  if (!verifyNative(alg, key, parts.signingInput, parts.signature, opts.ed25519)) throw new TesseraTokenError('invalid_token', 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  if (!parts.headerKnown) signedHeaders.remember(parts.token.slice(0, parts.dot1), parts.header);
  return validateClaimsSet(parts.payload, opts, nowMs);
}

function finalClaims(payload: jose.JWTPayload, tolerance: number, nowMs: number): AccessTokenClaims {
  const claims = assertClaimsShape(payload);
  // jose accepts any past or future iat; a token "issued" in the future was minted with a wrong clock or forged.
  if (claims.iat > nowMs / 1000 + tolerance) throw new TesseraTokenError('invalid_token', 'iat_in_future');
  return claims;
}

function failed(claim: string): never {
  throw new TesseraTokenError('invalid_token', `ERR_JWT_CLAIM_VALIDATION_FAILED:${claim}`);
}

function bad(claim: string): never {
  throw new TesseraTokenError('invalid_token', `claim_${claim}_malformed`);
}

/** jose's JWT claims-set validation (presence, iss, aud, nbf, exp) for the options this SDK uses. */
function validateClaimsSet(p: Record<string, unknown>, opts: CompiledJwtOptions, nowMs: number): jose.JWTPayload {
  const tolerance = opts.tolerance;
  for (const claim of PRESENCE_ORDER) if (!Object.hasOwn(p, claim)) failed(claim);
  const issuer: unknown = opts.issuer;
  if (Array.isArray(issuer) ? !issuer.includes(p.iss) : p.iss !== issuer) failed('iss');
  if (!audienceMatches(p.aud, opts.audience)) failed('aud');
  // jose's `new Date(nowMs)` is NaN beyond ±8.64e15 ms; the same refusal without a Date per token.
  if (!Number.isFinite(nowMs) || Math.abs(nowMs) > 8.64e15) throw new TesseraTokenError('invalid_token', 'verification_failed');
  const now = Math.floor(Math.trunc(nowMs) / 1000);
  if (typeof p.iat !== 'number') failed('iat');
  if (p.nbf !== undefined && typeof p.nbf !== 'number') failed('nbf');
  if (typeof p.nbf === 'number' && p.nbf > now + tolerance) failed('nbf');
  if (typeof p.exp !== 'number') failed('exp');
  if ((p.exp) <= now - tolerance) throw new TesseraTokenError('invalid_token', 'ERR_JWT_EXPIRED');
  return p;
}

export function isAccessTokenTyp(typ: unknown): boolean {
  if (typ === 'at+jwt') return true;
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

function audienceMatches(aud: unknown, expected: string | string[]): boolean {
  if (typeof expected === 'string') return typeof aud === 'string' ? aud === expected : Array.isArray(aud) && aud.includes(expected);
  if (typeof aud === 'string') return expected.includes(aud);
  return Array.isArray(aud) && expected.some((a) => aud.includes(a));
}

function isStringArray(v: unknown): v is string[] {
  if (!Array.isArray(v)) return false;
  for (const x of v) if (typeof x !== 'string') return false;
  return true;
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
