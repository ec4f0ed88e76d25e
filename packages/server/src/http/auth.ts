import type { FastifyReply, FastifyRequest } from 'fastify';
import { verifyDpopProof, type AccessTokenClaims } from '@tessera/sdk';
import { TesseraError } from '../core/errors.js';
import type { RequestContext } from '../core/sessions.js';
import type { SessionRow, UserRow } from '../store/ports/index.js';
import type { Tessera } from '../tessera.js';
import { CsrfTokens, cookieNames } from './cookies.js';

export interface AuthContext {
  claims: AccessTokenClaims;
  user: UserRow;
  session: SessionRow;
  via: 'bearer' | 'dpop' | 'cookie';
}

declare module 'fastify' {
  interface FastifyRequest {
    /** the signed-in caller (named apart from @tessera/sdk's `request.auth` claims) */
    principal: AuthContext | undefined;
    clientIp: string;
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export class HttpAuth {
  readonly names;
  readonly csrf: CsrfTokens;

  constructor(private readonly t: Tessera) {
    this.names = cookieNames(t.config.TESSERA_COOKIE_SECURE);
    this.csrf = new CsrfTokens(t.macKey);
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

  /** Verifies a DPoP proof header if present; returns the key thumbprint. */
  async dpop(request: FastifyRequest, accessToken?: string, expectedJkt?: string): Promise<string | undefined> {
    const proof = request.headers.dpop;
    if (proof === undefined) return undefined;
    if (typeof proof !== 'string') throw new TesseraError('invalid_dpop_proof', { reason: 'several DPoP headers' });
    try {
      const r = await verifyDpopProof(proof, {
        method: request.method,
        url: this.htu(request),
        ...(accessToken ? { accessToken } : {}),
        ...(expectedJkt ? { expectedJkt } : {}),
        now: () => this.t.clock.now(),
        // A proof is single-use across every node (RFC 9449 §11.1): the replay cache lives in shared state.
        isReplay: async (jti, ttlMs) => !(await this.t.state.claimOnce(`dpop:${jti}`, ttlMs)),
      });
      return r.jkt;
    } catch (err) {
      throw new TesseraError('invalid_dpop_proof', { reason: err instanceof Error ? err.message : 'bad proof' });
    }
  }

  /** Origin, when sent, must be one of ours: a cross-site form or fetch riding on the cookies is refused. */
  checkOrigin(request: FastifyRequest): void {
    const origin = request.headers.origin;
    if (origin !== undefined && !this.t.config.allowedOrigins.includes(origin)) {
      throw new TesseraError('csrf_failed', { reason: `origin ${origin} not allowed` });
    }
  }

  checkCsrf(request: FastifyRequest, sid: string): void {
    if (!UNSAFE.has(request.method)) return;
    this.checkOrigin(request);
    const header = request.headers['x-csrf-token'];
    const cookie = request.cookies[this.names.csrf];
    if (typeof header !== 'string' || !cookie || header !== cookie || !this.csrf.verify(sid, header)) {
      throw new TesseraError('csrf_failed', { reason: 'missing or mismatched CSRF token' });
    }
  }

  /** Authenticate a request from `Authorization: Bearer|DPoP` or the access cookie. */
  async authenticate(request: FastifyRequest): Promise<AuthContext> {
    const header = request.headers.authorization;
    let token: string | undefined;
    let via: AuthContext['via'];
    if (header !== undefined) {
      const m = /^(Bearer|DPoP) ([A-Za-z0-9._~+/-]+=*)$/i.exec(header);
      if (!m) throw new TesseraError('invalid_token', { reason: 'malformed Authorization header' });
      token = m[2];
      via = m[1].toLowerCase() === 'dpop' ? 'dpop' : 'bearer';
    } else {
      token = request.cookies[this.names.access];
      via = 'cookie';
    }
    if (!token) throw new TesseraError('invalid_token', { reason: 'no credentials' });
    const claims = await this.t.tokens.verifyAccessToken(token);
    const jkt = claims.cnf?.jkt;
    if (jkt) {
      // A sender-constrained token is worthless without a fresh proof from its key (RFC 9449 §7): presented
      // as Bearer, or without a proof, it is refused.
      if (via !== 'dpop') throw new TesseraError('invalid_token', { reason: 'DPoP-bound token presented without DPoP' });
      if (request.headers.dpop === undefined) throw new TesseraError('invalid_dpop_proof', { reason: 'missing proof' });
      await this.dpop(request, token, jkt);
    } else if (via === 'dpop') {
      throw new TesseraError('invalid_token', { reason: 'DPoP scheme with an unbound token' });
    }
    const session = await this.t.sessions.live(claims.sid);
    if (!session || session.userId !== claims.sub) throw new TesseraError('invalid_token', { reason: 'session revoked or expired' });
    const user = await this.t.store.getUserById(claims.sub);
    if (!user) throw new TesseraError('invalid_token', { reason: 'user gone' });
    if (via === 'cookie') this.checkCsrf(request, session.id);
    return { claims, user, session, via };
  }

  /** preHandler for protected routes */
  readonly required = async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    request.principal = await this.authenticate(request);
  };

  readonly admin = async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const auth = await this.authenticate(request);
    if (!auth.user.isAdmin) throw new TesseraError('forbidden', { reason: 'not an admin' });
    request.principal = auth;
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
