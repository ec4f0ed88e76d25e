import { TesseraTokenError } from './errors.js';
import type { TesseraTokenErrorCode } from './errors.js';
import { parseStrictJson, StrictJsonError } from './strict-json.js';

const B64URL = /^[A-Za-z0-9_-]+$/;
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
  const fail = (reason: string): never => {
    throw new TesseraTokenError(code, reason);
  };
  if (typeof token !== 'string' || token.length === 0) return fail('missing');
  if (token.length > maxBytes) return fail('token_too_long');
  const parts = token.split('.');
  if (parts.length !== 3) return fail('malformed_segments');
  for (const part of parts) {
    // Canonical base64url only: a second spelling of the same bytes is a way to slip past deny-lists and caches.
    if (!B64URL.test(part) || part.length % 4 === 1) return fail('malformed_base64url');
    if (Buffer.from(part, 'base64url').toString('base64url') !== part) return fail('malformed_base64url');
  }
  const header = decodeJsonObject(parts[0], fail);
  const payload = decodeJsonObject(parts[1], fail);
  for (const p of forbidden) if (p in header) return fail(`header_${p}_forbidden`);
  return { header, payload };
}

function decodeJsonObject(segment: string, fail: (reason: string) => never): Record<string, unknown> {
  let text: string;
  try {
    text = utf8.decode(Buffer.from(segment, 'base64url'));
  } catch {
    return fail('malformed_utf8');
  }
  let value: unknown;
  try {
    value = parseStrictJson(text);
  } catch (err) {
    return fail(err instanceof StrictJsonError ? err.reason : 'malformed_json');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('malformed_json');
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
  return typeof alg === 'string' && alg.toLowerCase() !== 'none' && algorithms.includes(alg);
}
