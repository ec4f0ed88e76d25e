import { TesseraTokenError } from './errors.js';
import type { AccessTokenClaims } from './jwt.js';

/** Shared by the Fastify plugin and the Express middleware; framework-free. */
export const ACCESS_TOKEN_COOKIE = '__Host-tessera_at';
export const CSRF_COOKIE = '__Host-tessera_csrf';
export const PROBLEM_TYPE_BASE = 'https://tessera.dev/problems/';

export type HeaderBag = Record<string, string | string[] | undefined>;

export interface PresentedToken {
  token: string;
  scheme: 'bearer' | 'dpop' | 'cookie';
  dpopProof?: string;
}

export class AuthHttpError extends Error {
  constructor(
    readonly code: 'invalid_token' | 'csrf_failed' | 'invalid_request',
    readonly reason: string,
  ) {
    super(`${code}: ${reason}`);
  }
}

// RFC 6750 b64token, shared by the header parser and the fast path's check so the two cannot drift apart.
const B64TOKEN = '[A-Za-z0-9\\-._~+/]+=*';
const AUTHORIZATION = new RegExp(`^(Bearer|DPoP) +(${B64TOKEN})$`, 'i');
const TOKEN68 = new RegExp(`^${B64TOKEN}$`);
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? (v.length === 1 ? v[0] : undefined) : v;
}

/** All values of cookie `name` in a Cookie header (more than one means someone planted a second cookie). */
export function cookieValues(header: string | undefined, name: string): string[] {
  if (!header) return [];
  const out: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    let v = part.slice(eq + 1).trim();
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    out.push(v);
  }
  return out;
}

/** Whether `Bearer <token>` is an Authorization header that extractToken reads as exactly this token. */
export function isToken68(token: string): boolean {
  return TOKEN68.test(token);
}

/**
 * Finds the access token: the Authorization header (Bearer or DPoP) first, else the cookie. Returns null
 * when no credential is present at all.
 */
export function extractToken(headers: HeaderBag, method: string, cookieName: string | false, csrf: boolean): PresentedToken | null {
  const authorization = headers.authorization;
  if (authorization !== undefined) {
    const m = typeof authorization === 'string' ? AUTHORIZATION.exec(authorization) : null;
    if (!m) throw new AuthHttpError('invalid_token', 'authorization_malformed');
    const scheme = m[1].toLowerCase() === 'dpop' ? 'dpop' : 'bearer';
    const proof = headers.dpop;
    // Two DPoP headers would let a proxy and us check different proofs.
    if (Array.isArray(proof)) throw new AuthHttpError('invalid_token', 'dpop_header_repeated');
    return { token: m[2], scheme, ...(proof !== undefined ? { dpopProof: proof } : {}) };
  }
  if (cookieName === false) return null;
  const values = cookieValues(single(headers.cookie), cookieName);
  if (values.length === 0) return null;
  // Cookie tossing: a second cookie of the same name (set by a sibling host or path) must not be chosen silently.
  if (values.length > 1) throw new AuthHttpError('invalid_token', 'cookie_ambiguous');
  if (csrf && UNSAFE_METHODS.has(method.toUpperCase())) assertCsrf(headers);
  return { token: values[0], scheme: 'cookie' };
}

/**
 * Cookie-authenticated unsafe requests must echo the `__Host-tessera_csrf` cookie in `X-CSRF-Token`: a
 * cross-site form can make the browser send the cookie, but cannot read it to copy it into a header.
 */
function assertCsrf(headers: HeaderBag): void {
  const sent = single(headers['x-csrf-token']);
  const cookies = cookieValues(single(headers.cookie), CSRF_COOKIE);
  if (!sent || cookies.length !== 1 || cookies[0] !== sent) throw new AuthHttpError('csrf_failed', 'csrf_token_mismatch');
}

/** The request's absolute URL for DPoP's htu, from a configured public origin or the Host header. */
export function requestUrl(origin: string | undefined, protocol: string, host: string | undefined, path: string): string {
  const base = origin ?? `${protocol}://${host ?? 'localhost'}`;
  return `${base.replace(/\/+$/, '')}${path.startsWith('/') ? path : `/${path}`}`;
}

export function hasAnyRole(claims: AccessTokenClaims, roles: readonly string[]): boolean {
  return roles.length === 0 || roles.some((r) => claims.roles.includes(r));
}

export function missingScopes(claims: AccessTokenClaims, scopes: readonly string[]): string[] {
  const granted = new Set((claims.scope ?? '').split(' ').filter(Boolean));
  return scopes.filter((s) => !granted.has(s));
}

export interface Problem {
  status: number;
  headers: Record<string, string>;
  body: { type: string; title: string; status: number; code: string };
}

const TITLES: Record<string, string> = {
  invalid_token: 'The access token is missing, invalid or expired',
  token_revoked: 'The access token has been revoked',
  invalid_dpop_proof: 'The DPoP proof is invalid',
  insufficient_scope: 'The token lacks the required scope or role',
  revocation_feed_stale: 'Token revocation status is unavailable',
  csrf_failed: 'Cross-site request refused',
  invalid_request: 'The request is not valid',
  server_error: 'Internal server error',
};

function problem(status: number, code: string, headers: Record<string, string> = {}): Problem {
  return {
    status,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', ...headers },
    body: { type: `${PROBLEM_TYPE_BASE}${code}`, title: TITLES[code] ?? code, status, code },
  };
}

/**
 * Maps a refusal to RFC 9457 problem+json with the RFC 6750 / RFC 9449 challenge. Internal reasons stay
 * out of the response: they would tell an attacker which check to work around.
 */
export function problemFor(err: unknown, scheme: PresentedToken['scheme'] | undefined, dpopAlgs: readonly string[], requiredScopes: readonly string[] = []): Problem {
  const algs = `algs="${dpopAlgs.join(' ')}"`;
  const challenge = (error: string) => (scheme === 'dpop' ? `DPoP error="${error}", ${algs}` : `Bearer error="${error}"`);
  if (err instanceof TesseraTokenError) {
    switch (err.code) {
      case 'invalid_token':
      case 'token_revoked':
        return problem(401, err.code, { 'www-authenticate': challenge('invalid_token') });
      case 'invalid_dpop_proof':
        return problem(401, err.code, { 'www-authenticate': `DPoP error="invalid_dpop_proof", ${algs}` });
      case 'insufficient_scope': {
        const scopeAttr = requiredScopes.length > 0 ? `, scope="${requiredScopes.join(' ')}"` : '';
        return problem(403, err.code, { 'www-authenticate': `${scheme === 'dpop' ? 'DPoP' : 'Bearer'} error="insufficient_scope"${scopeAttr}` });
      }
      case 'revocation_feed_stale':
        return problem(503, err.code, { 'retry-after': '5' });
    }
  }
  if (err instanceof AuthHttpError) {
    if (err.code === 'csrf_failed') return problem(403, 'csrf_failed');
    return problem(401, err.code, { 'www-authenticate': challenge('invalid_token') });
  }
  return problem(500, 'server_error');
}

/** 401 for a request without any credential: a challenge without an error code (RFC 6750 §3.1). */
export function missingCredentialsProblem(dpopAlgs: readonly string[]): Problem {
  return problem(401, 'invalid_token', { 'www-authenticate': `Bearer, DPoP algs="${dpopAlgs.join(' ')}"` });
}
