import { DEFAULT_DPOP_ALGORITHMS } from './dpop.js';
import { TesseraTokenError } from './errors.js';
import {
  ACCESS_TOKEN_COOKIE,
  AuthHttpError,
  extractToken,
  hasAnyRole,
  missingCredentialsProblem,
  missingScopes,
  problemFor,
  requestUrl,
} from './http.js';
import type { HeaderBag, PresentedToken, Problem } from './http.js';
import type { AccessTokenClaims } from './jwt.js';
import type { TesseraVerifier } from './verifier.js';

/** Options shared by the Fastify plugin and the Express middleware. */
export interface HttpAuthOptions {
  /** Cookie carrying the access token in browser (cookie-transport) mode; false to accept headers only. */
  cookieName?: string | false;
  /** Require `X-CSRF-Token` = `__Host-tessera_csrf` cookie on cookie-authenticated unsafe requests. Default true. */
  csrf?: boolean;
  /**
   * This server's public origin (`https://api.example.com`), used as the DPoP htu base. Set it in production:
   * without it the Host header decides, and a proof minted for another host could be presented here.
   */
  origin?: string;
  /** Algorithms advertised in the DPoP challenge. Default ['ES256', 'EdDSA']. */
  dpopAlgorithms?: string[];
}

export interface GuardSettings {
  cookieName: string | false;
  csrf: boolean;
  origin: string | undefined;
  dpopAlgorithms: string[];
}

export function guardSettings(o: HttpAuthOptions): GuardSettings {
  return {
    cookieName: o.cookieName ?? ACCESS_TOKEN_COOKIE,
    csrf: o.csrf ?? true,
    origin: o.origin,
    dpopAlgorithms: o.dpopAlgorithms ?? DEFAULT_DPOP_ALGORITHMS,
  };
}

export interface GuardRequest {
  method: string;
  headers: HeaderBag;
  protocol: string;
  host: string | undefined;
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
 * The token of a request's only `Authorization: Bearer <token>` header when it has no DPoP header, read from
 * Node's raw header list (so `req.headers` is never built for a cache hit); else undefined. Only a cache
 * candidate: a cached token passed `verify`'s canonical base64url checks, so whenever the cache knows this
 * string, `extractToken` would have returned it as a Bearer token too.
 */
export function rawBearerCandidate(rawHeaders: readonly string[]): string | undefined {
  let authorization: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name.length === 13 && name.toLowerCase() === 'authorization') {
      if (authorization !== undefined) return undefined;
      authorization = rawHeaders[i + 1];
    } else if (name.length === 4 && name.toLowerCase() === 'dpop') {
      return undefined;
    }
  }
  return authorization !== undefined && authorization.startsWith('Bearer ') ? authorization.slice(7) : undefined;
}

/** Whether the claims meet the roles (any of) and scopes (all of) a guard asks for. */
export function meetsNeeds(claims: AccessTokenClaims, needs: GuardNeeds): boolean {
  return (!needs.roles || hasAnyRole(claims, needs.roles)) && (!needs.scopes || missingScopes(claims, needs.scopes).length === 0);
}

export type GuardResult = { ok: true; claims: AccessTokenClaims } | { ok: false; problem: Problem };

/**
 * The whole check for one request: find the token, verify it (signature or cache, revocation, DPoP), then
 * roles (any of) and scopes (all of). Refusals become problem documents; unexpected errors are rethrown for
 * the framework's own error handling.
 */
export async function runGuard(verifier: TesseraVerifier, s: GuardSettings, req: GuardRequest, needs: GuardNeeds): Promise<GuardResult> {
  let scheme: PresentedToken['scheme'] | undefined;
  try {
    let claims = req.existing ?? null;
    if (claims === null) {
      const presented = extractToken(req.headers, req.method, s.cookieName, s.csrf);
      if (presented === null) return { ok: false, problem: missingCredentialsProblem(s.dpopAlgorithms) };
      scheme = presented.scheme;
      claims = await verifier.verify(presented.token, {
        scheme,
        method: req.method,
        // Only a DPoP proof is checked against the URL (a bound token under another scheme is refused first).
        ...(scheme === 'dpop' ? { url: requestUrl(s.origin, req.protocol, req.host, req.path) } : {}),
        ...(presented.dpopProof !== undefined ? { dpopProof: presented.dpopProof } : {}),
        ...(req.ip !== undefined ? { ip: req.ip } : {}),
        ...(typeof req.headers['user-agent'] === 'string' ? { userAgent: req.headers['user-agent'] } : {}),
      });
    }
    if (needs.roles && !hasAnyRole(claims, needs.roles)) {
      return { ok: false, problem: problemFor(new TesseraTokenError('insufficient_scope', 'role_missing'), scheme, s.dpopAlgorithms) };
    }
    if (needs.scopes && missingScopes(claims, needs.scopes).length > 0) {
      const err = new TesseraTokenError('insufficient_scope', 'scope_missing');
      return { ok: false, problem: problemFor(err, scheme, s.dpopAlgorithms, needs.scopes) };
    }
    return { ok: true, claims };
  } catch (err) {
    if (err instanceof TesseraTokenError || err instanceof AuthHttpError) {
      return { ok: false, problem: problemFor(err, scheme, s.dpopAlgorithms) };
    }
    throw err;
  }
}
