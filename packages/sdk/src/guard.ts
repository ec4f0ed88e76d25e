import { DEFAULT_DPOP_ALGORITHMS } from './dpop.js';
import { TesseraTokenError } from './errors.js';
import { ACCESS_TOKEN_COOKIE, CSRF_COOKIE, checkCsrfHeader, extractCredentials, isUnsafeMethod, parseOrigin, requestUrl } from './edge/credentials.js';
import type { CredentialPolicy, PresentedCredential } from './edge/credentials.js';
import { credentialHeaders, credentialHeadersOf, type HeaderBag } from './edge/headers.js';
import { isEdgeRefusal, missingCredentialsProblem, problemFor } from './edge/problem.js';
import type { ChallengeOptions, Problem } from './edge/problem.js';
import { DpopNonces, type DpopNonceOptions } from './edge/nonce.js';
import type { AccessTokenClaims } from './jwt.js';
import type { TesseraVerifier } from './verifier.js';

/** Options shared by the Fastify plugin and the Express middleware. */
export interface HttpAuthOptions {
  /** Cookie carrying the access token in browser (cookie-transport) mode; false to accept headers only. */
  cookieName?: string | false;
  /** Require `X-CSRF-Token` = `__Host-tessera_csrf` cookie on cookie-authenticated unsafe requests. Default true. */
  csrf?: boolean;
  /**
   * This API's public origin (`https://api.example.com`), the base of DPoP's `htu`. Required while DPoP is
   * accepted: the Host header is the client's to choose, so a proof captured at another API that trusts the
   * same issuer could otherwise be replayed here.
   */
  origin?: string;
  /** Accept DPoP-bound tokens (`Authorization: DPoP`). Default true, which needs `origin`. */
  dpop?: boolean;
  /** Algorithms advertised in the DPoP challenge. Default ['ES256', 'EdDSA']. */
  dpopAlgorithms?: string[];
  /**
   * Server-issued DPoP nonces (RFC 9449 §9): every response to a request with a proof carries `DPoP-Nonce`,
   * and a browser session's proof (a bound token in the cookie) must carry a recent one, so proofs cannot be
   * signed in advance; header-DPoP clients that send a nonce have it checked too. Give every instance of this
   * API the same secret. Unset: nonces are neither issued nor checked.
   */
  dpopNonce?: Omit<DpopNonceOptions, 'now'>;
  /** The clock of the nonce windows (tests). */
  now?: () => number;
}

export interface GuardSettings {
  policy: CredentialPolicy;
  csrf: boolean;
  /** Set whenever DPoP is accepted. */
  origin: string | undefined;
  challenge: ChallengeOptions;
  nonces: DpopNonces | undefined;
}

/** Checks the options once, at creation: a TypeError names what is missing. */
export function guardSettings(o: HttpAuthOptions, who = 'tesseraAuth'): GuardSettings {
  const dpop = o.dpop ?? true;
  if (dpop && o.origin === undefined) {
    throw new TypeError(`${who}: origin is required while DPoP is accepted (set origin to this API's public origin, e.g. https://api.example.com, or dpop: false)`);
  }
  return {
    policy: { cookieName: o.cookieName ?? ACCESS_TOKEN_COOKIE, dpop },
    csrf: o.csrf ?? true,
    origin: o.origin === undefined ? undefined : parseOrigin(o.origin, who),
    challenge: { dpop, dpopAlgorithms: [...(o.dpopAlgorithms ?? DEFAULT_DPOP_ALGORITHMS)] },
    nonces: o.dpopNonce && dpop ? new DpopNonces({ ...o.dpopNonce, ...(o.now ? { now: o.now } : {}) }) : undefined,
  };
}

export interface GuardRequest {
  method: string;
  headers: HeaderBag;
  /** Node's raw header list, where a repeated Authorization header is still visible. */
  rawHeaders?: readonly string[] | undefined;
  /** Path and query as received. */
  path: string;
  ip?: string | undefined;
  /** Claims a previous guard on the same request already verified. */
  existing: AccessTokenClaims | null | undefined;
}

export interface GuardNeeds {
  roles?: readonly string[];
  scopes?: readonly string[];
}

/**
 * The token of a request's only `Authorization: Bearer <token>` header when it has no DPoP header and no
 * access-token cookie, read from Node's raw header list (so `req.headers` is never built for a cache hit);
 * else undefined. Only a cache candidate: a cached token passed `verify`'s canonical base64url checks, so
 * whenever the cache knows this string, `extractCredentials` would have returned it as a Bearer token too.
 */
export function rawBearerCandidate(rawHeaders: readonly string[], cookieName: string | false): string | undefined {
  let authorization: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name.length === 13 && name.toLowerCase() === 'authorization') {
      if (authorization !== undefined) return undefined;
      authorization = rawHeaders[i + 1];
    } else if (name.length === 4 && name.toLowerCase() === 'dpop') {
      return undefined;
    } else if (name.length === 6 && cookieName !== false && name.toLowerCase() === 'cookie' && rawHeaders[i + 1].includes(cookieName)) {
      // A header and a cookie at once is refused, which the full path answers.
      return undefined;
    }
  }
  return authorization !== undefined && authorization.startsWith('Bearer ') ? authorization.slice(7) : undefined;
}

export function hasAnyRole(claims: AccessTokenClaims, roles: readonly string[]): boolean {
  return roles.length === 0 || roles.some((r) => claims.roles.includes(r));
}

export function missingScopes(claims: AccessTokenClaims, scopes: readonly string[]): string[] {
  const granted = new Set((claims.scope ?? '').split(' ').filter(Boolean));
  return scopes.filter((s) => !granted.has(s));
}

/** Whether the claims meet the roles (any of) and scopes (all of) a guard asks for. */
export function meetsNeeds(claims: AccessTokenClaims, needs: GuardNeeds): boolean {
  return (!needs.roles || hasAnyRole(claims, needs.roles)) && (!needs.scopes || missingScopes(claims, needs.scopes).length === 0);
}

/** `nonce`: the `DPoP-Nonce` header to answer with (a proof was sent and nonces are on). */
export type GuardResult = ({ ok: true; claims: AccessTokenClaims } | { ok: false; problem: Problem }) & { nonce?: string };

/**
 * The nonce rule for one request's proof: a browser cookie's proof must carry a recent nonce; a header-DPoP
 * client's is checked only when it sends one (RFC 9449 lets a server ask some clients only).
 */
function nonceRule(nonces: DpopNonces, scheme: PresentedCredential['scheme']): (nonce: unknown) => boolean {
  return scheme === 'cookie' ? (n) => nonces.isValid(n) : (n) => n === undefined || nonces.isValid(n);
}

/** The request's one credential per the edge policy, with the CSRF check for a cookie on an unsafe method. */
function present(s: GuardSettings, req: GuardRequest): PresentedCredential | null {
  const h = req.rawHeaders !== undefined ? credentialHeaders(req.rawHeaders) : credentialHeadersOf(req.headers);
  const presented = extractCredentials(h, s.policy);
  if (presented?.scheme === 'cookie' && s.csrf && isUnsafeMethod(req.method)) checkCsrfHeader(h, CSRF_COOKIE);
  return presented;
}

async function verifyPresented(verifier: TesseraVerifier, s: GuardSettings, req: GuardRequest, p: PresentedCredential): Promise<AccessTokenClaims> {
  const ua = req.headers['user-agent'];
  return verifier.verify(p.token, {
    scheme: p.scheme,
    method: req.method,
    // Only a proof is checked against the URL: the DPoP scheme, or a bound browser session's cookie.
    ...(p.scheme !== 'bearer' && s.origin !== undefined ? { url: requestUrl(s.origin, req.path) } : {}),
    ...(p.dpopProof !== undefined ? { dpopProof: p.dpopProof } : {}),
    ...(p.dpopProof !== undefined && s.nonces !== undefined ? { checkNonce: nonceRule(s.nonces, p.scheme) } : {}),
    ...(req.ip !== undefined ? { ip: req.ip } : {}),
    ...(typeof ua === 'string' ? { userAgent: ua } : {}),
  });
}

/**
 * The whole check for one request: find the token, verify it (signature or cache, revocation, DPoP), then
 * roles (any of) and scopes (all of). Refusals become problem documents; unexpected errors are rethrown for
 * the framework's own error handling.
 */
export async function runGuard(verifier: TesseraVerifier, s: GuardSettings, req: GuardRequest, needs: GuardNeeds): Promise<GuardResult> {
  const result = await guardOnce(verifier, s, req, needs);
  if (s.nonces === undefined || !hasDpopHeader(req)) return result;
  const nonce = s.nonces.current();
  if (!result.ok) result.problem.headers['dpop-nonce'] = nonce;
  return { ...result, nonce };
}

function hasDpopHeader(req: GuardRequest): boolean {
  if (req.rawHeaders === undefined) return req.headers.dpop !== undefined;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i].length === 4 && req.rawHeaders[i].toLowerCase() === 'dpop') return true;
  return false;
}

async function guardOnce(verifier: TesseraVerifier, s: GuardSettings, req: GuardRequest, needs: GuardNeeds): Promise<GuardResult> {
  let scheme: PresentedCredential['scheme'] | undefined;
  try {
    let claims = req.existing ?? null;
    if (claims === null) {
      const presented = present(s, req);
      if (presented === null) return { ok: false, problem: missingCredentialsProblem(s.challenge) };
      scheme = presented.scheme;
      claims = await verifyPresented(verifier, s, req, presented);
    }
    if (needs.roles && !hasAnyRole(claims, needs.roles)) {
      return { ok: false, problem: problemFor(new TesseraTokenError('insufficient_scope', 'role_missing'), { ...s.challenge, scheme }) };
    }
    if (needs.scopes && missingScopes(claims, needs.scopes).length > 0) {
      const err = new TesseraTokenError('insufficient_scope', 'scope_missing');
      return { ok: false, problem: problemFor(err, { ...s.challenge, scheme, scopes: needs.scopes }) };
    }
    return { ok: true, claims };
  } catch (err) {
    if (isEdgeRefusal(err)) return { ok: false, problem: problemFor(err, { ...s.challenge, scheme }) };
    throw err;
  }
}
