import { createHmac } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { verifyDpopProof, type AccessTokenClaims } from '@tessera/sdk';
import {
  DEFAULT_DPOP_ALGORITHMS,
  DpopNonces,
  checkCsrfHeader,
  credentialHeaders,
  extractCredentials,
  isEdgeRefusal,
  isUnsafeMethod,
  requiredProofKey,
  verifyBoundProof,
  type CredentialPolicy,
  type CredentialScheme,
  type PresentedCredential,
} from '@tessera/sdk/edge';
import { TesseraError } from '../core/errors.js';
import type { RequestContext } from '../core/sessions.js';
import type { MfaCounts, SessionRow, UserRow } from '../store/ports/index.js';
import type { TesseraServices } from '../tessera.js';
import { CsrfTokens, cookieNames } from './cookies.js';
import { challengeFor, credentialsChallenge } from './problem.js';

export interface AuthContext {
  claims: AccessTokenClaims;
  user: UserRow;
  session: SessionRow;
  /** the user's second factors as of this request */
  mfa: MfaCounts;
  via: CredentialScheme;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** the signed-in caller (named apart from @tessera/sdk's `request.auth` claims) */
    principal: AuthContext | undefined;
    clientIp: string;
  }
}

/**
 * A refusal as the server's error, with the challenge in the scheme the credential came in: the SDK's
 * edge refusals keep their code and internal reason, and every 401 gets its WWW-Authenticate.
 */
function withChallenge(err: unknown, scheme: CredentialScheme | undefined): unknown {
  const te = isEdgeRefusal(err) ? new TesseraError(err.code, { reason: err.reason }) : err;
  if (!(te instanceof TesseraError) || te.status !== 401 || Object.keys(te.headers).some((k) => k.toLowerCase() === 'www-authenticate')) return te;
  const challenge = challengeFor(te.code, scheme);
  if (challenge === undefined) return te;
  return new TesseraError(te.code, {
    ...(te.detail !== undefined ? { detail: te.detail } : {}),
    ...(te.reason !== undefined ? { reason: te.reason } : {}),
    headers: { ...te.headers, 'WWW-Authenticate': challenge },
    extra: te.extra,
  });
}

/**
 * The server's own authentication: the SDK's edge policy (`@tessera/sdk/edge`: one credential, DPoP binding,
 * CSRF double submit), plus what only the server can check — a live session of an existing user, and a
 * CSRF token signed for that session.
 */
export class HttpAuth {
  readonly names;
  readonly csrf: CsrfTokens;
  /** DPoP-Nonce values (RFC 9449 §8): stateless, from a key every node derives alike, so any node accepts them. */
  readonly nonces: DpopNonces;
  /** TESSERA_BROWSER_KEY_BINDING: whether a cookie-mode sign-in with a proof binds the session to its key */
  readonly bindsBrowsers: boolean;
  readonly #policy: CredentialPolicy;

  constructor(private readonly t: TesseraServices) {
    this.names = cookieNames(t.config.TESSERA_COOKIE_SECURE);
    this.csrf = new CsrfTokens(t.macKey);
    this.nonces = new DpopNonces({ secret: createHmac('sha256', t.macKey).update('dpop-nonce').digest(), now: () => t.clock.now() });
    this.bindsBrowsers = t.config.TESSERA_BROWSER_KEY_BINDING;
    this.#policy = { cookieName: this.names.access, dpop: true };
  }

  /**
   * The nonce rule for a proof: a browser's (cookie mode) must carry a recent nonce of ours, so a proof
   * cannot be signed in advance for later; an API client's is checked only when it sends one.
   */
  nonceRule(cookieMode: boolean): (nonce: unknown) => boolean {
    return cookieMode ? (n) => this.nonces.isValid(n) : (n) => n === undefined || this.nonces.isValid(n);
  }

  /** The canonical URL of this request for DPoP `htu`: the issuer's origin plus the path, never the Host header. */
  htu(request: FastifyRequest): string {
    return `${this.t.config.issuer}${request.url.split('?')[0] ?? ''}`;
  }

  context(request: FastifyRequest, dpopJkt?: string): RequestContext {
    const ua = request.headers['user-agent'];
    return {
      ip: request.clientIp,
      userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null,
      geo: this.t.geo.locate(request.clientIp),
      dpopJkt,
    };
  }

  // A proof is single-use across every node (RFC 9449 §11.1): the replay cache lives in shared state.
  readonly #isReplay = (jti: string, ttlMs: number): Promise<boolean> => this.t.dpopReplays.isReplay(jti, ttlMs);

  /**
   * Verifies the DPoP proof header of a sign-in or refresh, if present; returns the key thumbprint.
   * `cookieMode`: the browser transport, whose proofs must carry a recent server nonce.
   */
  async dpop(request: FastifyRequest, cookieMode = false): Promise<string | undefined> {
    const proofs = credentialHeaders(request.raw.rawHeaders).dpop;
    if (proofs.length === 0) return undefined;
    // Two DPoP headers would let a proxy and us check different proofs.
    if (proofs.length > 1) throw new TesseraError('invalid_dpop_proof', { reason: 'dpop_header_repeated' });
    try {
      const r = await verifyDpopProof(proofs[0], {
        method: request.method,
        url: this.htu(request),
        now: () => this.t.clock.now(),
        isReplay: this.#isReplay,
        checkNonce: this.nonceRule(cookieMode),
      });
      return r.jkt;
    } catch (err) {
      const code = isEdgeRefusal(err) && err.code === 'use_dpop_nonce' ? 'use_dpop_nonce' : 'invalid_dpop_proof';
      throw new TesseraError(code, { reason: isEdgeRefusal(err) ? err.reason : err instanceof Error ? err.message : 'bad proof' });
    }
  }

  /** Origin, when sent, must be one of ours: a cross-site form or fetch riding on the cookies is refused. */
  checkOrigin(request: FastifyRequest): void {
    const origin = request.headers.origin;
    if (origin !== undefined && !this.t.config.allowedOrigins.includes(origin)) {
      throw new TesseraError('csrf_failed', { reason: `origin ${origin} not allowed` });
    }
  }

  /** Cookie-mode unsafe requests: an allowed Origin, and the double-submitted CSRF token signed for this session. */
  checkCsrf(request: FastifyRequest, sid: string): void {
    if (!isUnsafeMethod(request.method)) return;
    this.checkOrigin(request);
    let sent: string;
    try {
      sent = checkCsrfHeader(credentialHeaders(request.raw.rawHeaders), this.names.csrf);
    } catch (err) {
      throw new TesseraError('csrf_failed', { reason: isEdgeRefusal(err) ? err.reason : 'missing or mismatched CSRF token' });
    }
    // A value planted in both the cookie and the header (a sibling subdomain) is not signed for this session.
    if (!this.csrf.verify(sid, sent)) throw new TesseraError('csrf_failed', { reason: 'csrf_token_not_for_session' });
  }

  /** The request's one credential, by the edge policy; none at all is a 401 with a bare challenge. */
  #presented(request: FastifyRequest): PresentedCredential {
    const presented = extractCredentials(credentialHeaders(request.raw.rawHeaders), this.#policy);
    if (presented === null) {
      throw new TesseraError('invalid_token', { reason: 'no credentials', headers: { 'WWW-Authenticate': credentialsChallenge() } });
    }
    return presented;
  }

  /** A sender-constrained token is worthless without a fresh proof from its key (RFC 9449 §7). */
  async #checkBinding(request: FastifyRequest, presented: PresentedCredential, claims: AccessTokenClaims): Promise<void> {
    const proof = presented.dpopProof;
    const jkt = requiredProofKey(claims, presented.scheme, proof);
    if (jkt === undefined || proof === undefined) return;
    await verifyBoundProof(presented.token, jkt, proof, {
      method: request.method,
      url: this.htu(request),
      algorithms: DEFAULT_DPOP_ALGORITHMS,
      maxAgeSec: 60,
      now: () => this.t.clock.now(),
      isReplay: this.#isReplay,
      checkNonce: this.nonceRule(presented.scheme === 'cookie'),
    });
  }

  /**
   * Authenticate a request from `Authorization: Bearer|DPoP` or the access cookie. `clientTokens`: accept
   * tokens issued to OAuth clients too (userinfo only).
   */
  async authenticate(request: FastifyRequest, opts: { clientTokens?: boolean } = {}): Promise<AuthContext> {
    let scheme: CredentialScheme | undefined;
    try {
      const presented = this.#presented(request);
      scheme = presented.scheme;
      const claims = await this.t.tokens.verifyAccessToken(presented.token);
      // A token issued to an OAuth client (`client_id`; `sub` = the client for client_credentials) is for
      // userinfo and resource servers: an app the user signed in to must not change their password, read
      // their sessions or delete the account through the first-party API.
      if (!opts.clientTokens && claims.client_id !== undefined) throw new TesseraError('invalid_token', { reason: 'token issued to an OAuth client' });
      await this.#checkBinding(request, presented, claims);
      // one query: the session (live, of this subject), its user and the MFA summary
      const principal = await this.t.sessions.livePrincipal(claims.sid);
      if (!principal || principal.session.userId !== claims.sub) throw new TesseraError('invalid_token', { reason: 'session revoked or expired, or user gone' });
      const { session, user, mfa } = principal;
      if (user.disabledAt !== null) throw new TesseraError('invalid_token', { reason: 'account disabled' });
      if (scheme === 'cookie') this.checkCsrf(request, session.id);
      // a token used from a place impossible to reach since the session was last seen: refused now, and the
      // account signed out everywhere, not only at the next refresh (a stolen token is used at once)
      // (a confidential OAuth client calls from its backend, whose address is not the user's: not compared)
      if (!(await this.#fromClientBackend(claims))) await this.t.risk.onAccess(user, session, request.clientIp, () => this.context(request));
      return { claims, user, session, mfa, via: scheme };
    } catch (err) {
      throw withChallenge(err, scheme);
    }
  }

  async #fromClientBackend(claims: AccessTokenClaims): Promise<boolean> {
    if (typeof claims.client_id !== 'string') return false;
    const client = await this.t.oauth.getClient(claims.client_id);
    return client !== undefined && !this.t.oauth.isPublic(client);
  }

  /** preHandler for protected routes; what an authenticated caller reads is never stored by a cache. */
  readonly required = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    request.principal = await this.authenticate(request);
    void reply.header('Cache-Control', 'no-store');
  };

  readonly admin = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const auth = await this.authenticate(request);
    if (!auth.user.isAdmin) throw new TesseraError('forbidden', { reason: 'not an admin' });
    request.principal = auth;
    void reply.header('Cache-Control', 'no-store');
  };

  /** Step-up: sensitive changes need a sign-in within the last 5 minutes. */
  recent(auth: AuthContext, maxAgeSec = 300): void {
    if (this.t.clock.now() - auth.session.authTime > maxAgeSec * 1000) {
      throw new TesseraError('reauthentication_required', { detail: `Sign in again (within ${maxAgeSec / 60} minutes) to do this.` });
    }
  }
}

export function authOf(request: FastifyRequest): AuthContext {
  if (!request.principal) throw new TesseraError('invalid_token', { reason: 'route without auth preHandler' });
  return request.principal;
}
