import { TesseraTokenError } from '../errors.js';
import { CsrfRefusal } from './errors.js';
import { cookieValues, type CredentialHeaders } from './headers.js';

/** The access-token and CSRF cookies Tessera sets (`__Host-`: pinned to one host, Secure, path `/`). */
export const ACCESS_TOKEN_COOKIE = '__Host-tessera_at';
export const CSRF_COOKIE = '__Host-tessera_csrf';
/** Browsers refuse `__Host-` without Secure, so plain-http development uses unprefixed names. */
export const DEV_ACCESS_TOKEN_COOKIE = 'tessera_at';
export const DEV_CSRF_COOKIE = 'tessera_csrf';

/** The cookie names for a deployment with Secure cookies (production) or without (plain-http development). */
export function cookieNamesFor(secure: boolean): { access: string; csrf: string } {
  return secure ? { access: ACCESS_TOKEN_COOKIE, csrf: CSRF_COOKIE } : { access: DEV_ACCESS_TOKEN_COOKIE, csrf: DEV_CSRF_COOKIE };
}

export type CredentialScheme = 'bearer' | 'dpop' | 'cookie';

export interface PresentedCredential {
  token: string;
  scheme: CredentialScheme;
  /** The request's only `DPoP` header, when it has one. */
  dpopProof?: string;
}

export interface CredentialPolicy {
  /** The access-token cookie; false to accept the Authorization header only. */
  cookieName: string | false;
  /** Whether the DPoP scheme is accepted at all. */
  dpop: boolean;
}

// RFC 6750 §2.1 / RFC 9449 §7.1: `credentials = auth-scheme 1*SP token68`, the scheme case-insensitive.
// Shared by the header parser and the fast path's check so the two cannot drift apart.
const B64TOKEN = '[A-Za-z0-9\\-._~+/]+=*';
const AUTHORIZATION = new RegExp(`^(Bearer|DPoP) +(${B64TOKEN})$`, 'i');
const TOKEN68 = new RegExp(`^${B64TOKEN}$`);
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** One Authorization header value, or null when it is not `Bearer|DPoP 1*SP token68`. */
export function parseAuthorization(value: string): { scheme: 'bearer' | 'dpop'; token: string } | null {
  const m = AUTHORIZATION.exec(value);
  if (!m) return null;
  return { scheme: m[1].toLowerCase() === 'dpop' ? 'dpop' : 'bearer', token: m[2] };
}

/** Whether `token` is a token68, i.e. `Bearer <token>` parses as exactly this token. */
export function isToken68(token: string): boolean {
  return TOKEN68.test(token);
}

const refuse = (reason: string): never => {
  throw new TesseraTokenError('invalid_token', reason);
};

/**
 * The one access token a request presents: the Authorization header (Bearer or DPoP) or the cookie, or null
 * when it presents none. Anything ambiguous is refused rather than resolved by picking one, because a proxy,
 * a framework and this check could each pick a different one (RFC 6750 §2: one method per request).
 */
export function extractCredentials(h: CredentialHeaders, policy: CredentialPolicy): PresentedCredential | null {
  if (h.authorization.length > 1) refuse('authorization_repeated');
  // Cookie tossing: a second cookie of the same name (set by a sibling host or path) must not be chosen silently.
  const cookies = policy.cookieName === false ? [] : cookieValues(h.cookie, policy.cookieName);
  if (cookies.length > 1) refuse('cookie_ambiguous');
  // Two DPoP headers would let a proxy and us check different proofs (RFC 9449 §4.3, check 1).
  if (h.dpop.length > 1) throw new TesseraTokenError('invalid_dpop_proof', 'dpop_header_repeated');
  const proof = h.dpop.length === 1 ? { dpopProof: h.dpop[0] } : {};
  if (h.authorization.length === 1) {
    // A header and a cookie at once: which one the request means is exactly what an attacker would like to choose.
    if (cookies.length > 0) refuse('credentials_ambiguous');
    const parsed = parseAuthorization(h.authorization[0]);
    if (parsed === null) return refuse('authorization_malformed');
    if (parsed.scheme === 'dpop' && !policy.dpop) refuse('dpop_not_accepted');
    return { token: parsed.token, scheme: parsed.scheme, ...proof };
  }
  if (cookies.length === 0) return null;
  if (cookies[0] === '') refuse('cookie_empty');
  return { token: cookies[0], scheme: 'cookie', ...proof };
}

/** Whether a cookie-authenticated request with this method must pass the CSRF check. */
export function isUnsafeMethod(method: string): boolean {
  return UNSAFE_METHODS.has(method.toUpperCase());
}

/**
 * Double-submit check for a cookie-authenticated unsafe request: `X-CSRF-Token` must equal the only CSRF
 * cookie. A cross-site form can make the browser send the cookie, but cannot read it to copy it into a header.
 * Returns the token, for a caller that also verifies its signature.
 */
export function checkCsrfHeader(h: CredentialHeaders, csrfCookieName: string): string {
  const cookies = cookieValues(h.cookie, csrfCookieName);
  const sent = h.csrf.length === 1 ? h.csrf[0] : undefined;
  if (sent === undefined || sent === '' || cookies.length !== 1 || cookies[0] !== sent) throw new CsrfRefusal('csrf_token_mismatch');
  return sent;
}

/**
 * A configured public origin (`https://api.example.com`), normalised; a TypeError for anything else. DPoP's
 * `htu` is built from it, never from the Host header, which the client chooses.
 */
export function parseOrigin(origin: string, who: string): string {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    throw new TypeError(`${who}: origin must be an absolute URL such as https://api.example.com`);
  }
  if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.pathname !== '/' || u.search !== '' || u.hash !== '' || u.username !== '') {
    throw new TypeError(`${who}: origin must be a scheme, host and optional port only, such as https://api.example.com`);
  }
  return u.origin;
}

/** The request's absolute URL for DPoP's `htu`: the configured origin plus the path as received. */
export function requestUrl(origin: string, path: string): string {
  return `${origin}${path.startsWith('/') ? path : `/${path}`}`;
}
