import { isAscii } from 'node:buffer';
import { TesseraTokenError } from './errors.js';
import type { TesseraTokenErrorCode } from './errors.js';
import { parseStrictJson, StrictJsonError } from './strict-json.js';

// Three non-empty base64url segments (split by the regex engine in one pass, not by three tests).
const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Header parameters we never honour. `jku`/`x5u` make us fetch an attacker's key, `jwk`/`x5c` embed one,
 * `crit` demands extensions we do not implement, and `b64:false` changes what the signature covers.
 */
export const FORBIDDEN_HEADER_PARAMS = ['jku', 'x5u', 'x5c', 'jwk', 'crit', 'b64'] as const;

export interface DecodedCompact {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

/** The decoded parts plus what a signature check needs, so nothing is decoded twice. */
export interface DecodedCompactParts extends DecodedCompact {
  token: string;
  /** Offsets of the two dots: the segments are token[0, dot1), token(dot1, dot2), token(dot2, end). */
  dot1: number;
  dot2: number;
  /** `header.payload` as bytes (the JWS signing input). */
  signingInput: Buffer;
  signature: Buffer;
  /** The header came from `knownHeaders`, not from decoding. */
  headerKnown: boolean;
}

/** Header segments already decoded and checked, found by the token's first `dot1` characters. */
export interface KnownHeaders {
  find(token: string, dot1: number): Record<string, unknown> | undefined;
}

/** The three base64url segments of decoded parts. */
export function segmentsOf(parts: DecodedCompactParts): [string, string, string] {
  const { token, dot1, dot2 } = parts;
  return [token.slice(0, dot1), token.slice(dot1 + 1, dot2), token.slice(dot2 + 1)];
}

/**
 * Structural checks on a JWS compact string, done before any crypto so malformed input costs almost nothing
 * and never reaches a lenient decoder.
 */
export function decodeCompactStrict(
  token: unknown,
  maxBytes: number,
  code: TesseraTokenErrorCode,
  forbidden: readonly string[] = FORBIDDEN_HEADER_PARAMS,
): DecodedCompact {
  const { header, payload } = decodeCompactParts(token, maxBytes, code, forbidden);
  return { header, payload };
}

/**
 * `knownHeaders`: header segments already decoded and checked (with this `forbidden` list); such a header is
 * taken as it is instead of being decoded again.
 */
export function decodeCompactParts(
  token: unknown,
  maxBytes: number,
  code: TesseraTokenErrorCode,
  forbidden: readonly string[] = FORBIDDEN_HEADER_PARAMS,
  knownHeaders?: KnownHeaders,
): DecodedCompactParts {
  if (typeof token !== 'string' || token.length === 0) return refuse(code, 'missing');
  if (token.length > maxBytes) return refuse(code, 'token_too_long');
  // One pass over the whole token for the usual case; the segment-by-segment checks below give the reason.
  if (!COMPACT.test(token)) return refuse(code, compactFault(token));
  const dot1 = token.indexOf('.');
  const dot2 = token.indexOf('.', dot1 + 1);
  // Canonical base64url only: a second spelling of the same bytes is a way to slip past deny-lists and caches.
  if (!canonicalEnd(token, 0, dot1) || !canonicalEnd(token, dot1 + 1, dot2) || !canonicalEnd(token, dot2 + 1, token.length)) {
    return refuse(code, 'malformed_base64url');
  }
  const known = knownHeaders?.find(token, dot1);
  const header = known ?? decodeJsonObject(Buffer.from(token.slice(0, dot1), 'base64url'), code);
  const payload = decodeJsonObject(Buffer.from(token.slice(dot1 + 1, dot2), 'base64url'), code);
  if (known === undefined) for (const p of forbidden) if (p in header) return refuse(code, `header_${p}_forbidden`);
  // The segments are canonical base64url (ASCII), so latin1 gives exactly the signed bytes.
  const signingInput = Buffer.from(token.slice(0, dot2), 'latin1');
  const signature = Buffer.from(token.slice(dot2 + 1), 'base64url');
  return { header, payload, token, dot1, dot2, signingInput, signature, headerKnown: known !== undefined };
}

/** Why a token failed COMPACT: the wrong number of segments, or a segment that is not base64url. */
function compactFault(token: string): string {
  const parts = token.split('.');
  return parts.length !== 3 ? 'malformed_segments' : 'malformed_base64url';
}

/**
 * The segment token[start, end), its alphabet already checked and without '=' padding: not 4k+1 characters
 * long, and the unused low bits of its last character zero (what re-encoding the decoded bytes would give;
 * setting them is the one other spelling of the same bytes).
 */
function canonicalEnd(token: string, start: number, end: number): boolean {
  const rem = (end - start) % 4;
  if (rem === 0) return true;
  if (rem === 1) return false;
  const c = token.charCodeAt(end - 1);
  const v = c >= 0x61 ? c - 0x61 + 26 : c >= 0x41 ? c - 0x41 : c >= 0x30 && c <= 0x39 ? c - 0x30 + 52 : c === 0x2d ? 62 : 63;
  return (v & (rem === 2 ? 0x0f : 0x03)) === 0;
}

// Module-level (not a closure per call): this runs for every never-seen token.
function refuse(code: TesseraTokenErrorCode, reason: string): never {
  throw new TesseraTokenError(code, reason);
}

function decodeJsonObject(bytes: Buffer, code: TesseraTokenErrorCode): Record<string, unknown> {
  let text: string;
  if (isAscii(bytes)) {
    // The usual case: plain ASCII reads the same in every decoder, so skip the validating UTF-8 one.
    text = bytes.toString('latin1');
  } else {
    try {
      text = utf8.decode(bytes);
    } catch {
      return refuse(code, 'malformed_utf8');
    }
  }
  let value: unknown;
  try {
    value = parseStrictJson(text);
  } catch (err) {
    return refuse(code, err instanceof StrictJsonError ? err.reason : 'malformed_json');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return refuse(code, 'malformed_json');
  return value as Record<string, unknown>;
}

/** `none` is refused in every casing, whatever a caller put in its allow-list. */
export function assertAlgorithmAllowList(algorithms: readonly string[], what: string): void {
  if (!Array.isArray(algorithms) || algorithms.length === 0) throw new TypeError(`${what}: algorithms must be a non-empty list`);
  for (const a of algorithms) {
    if (typeof a !== 'string' || a.toLowerCase() === 'none') throw new TypeError(`${what}: algorithm ${String(a)} is not allowed`);
  }
}

export function isAllowedAlg(alg: unknown, algorithms: readonly string[]): alg is string {
  // (Only a four-character name can be some casing of `none`: no lower-cased copy of every other one.)
  return typeof alg === 'string' && (alg.length !== 4 || alg.toLowerCase() !== 'none') && algorithms.includes(alg);
}
