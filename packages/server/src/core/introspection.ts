import { parseOpaqueToken } from './crypto.js';
import type { EventLog } from './events.js';
import type { SessionService } from './sessions.js';
import type { TokenService } from './tokens.js';

/** RFC 7662 §2.2: `active`, and for an active token what it is and whom it speaks for. */
export interface IntrospectionResult {
  [claim: string]: unknown;
  active: boolean;
  token_type?: string;
  sub?: string;
  sid?: string;
  exp?: number;
  iss?: string;
  client_id?: string;
}

/**
 * Token revocation (RFC 7009) and introspection (RFC 7662) over both kinds of token: signed access tokens
 * and opaque refresh tokens.
 */
export class Introspection {
  constructor(
    private readonly tokens: Pick<TokenService, 'verifyAccessToken'>,
    private readonly sessions: Pick<SessionService, 'findRefreshToken' | 'get' | 'live' | 'revoke'>,
    private readonly events: EventLog,
    private readonly issuer: string,
  ) {}

  /**
   * Ends the session `token` belongs to. Possession of a token is the authority to revoke it (our refresh
   * tokens belong to public clients); unknown, invalid and already revoked tokens answer alike (no oracle).
   */
  async revoke(token: string, ip: string): Promise<void> {
    if (parseOpaqueToken(token)) {
      const row = await this.sessions.findRefreshToken(token);
      if (row && (await this.sessions.revoke(row.sessionId, 'token_revoked'))) {
        const s = await this.sessions.get(row.sessionId);
        await this.events.record({ type: 'session_revoked', userId: s?.userId ?? null, sessionId: row.sessionId, ip, data: { via: 'oauth_revoke' } });
      }
      return;
    }
    const claims = await this.tokens.verifyAccessToken(token).catch(() => undefined);
    if (claims && (await this.sessions.revoke(claims.sid, 'token_revoked'))) {
      await this.events.record({ type: 'session_revoked', userId: claims.sub, sessionId: claims.sid, ip, data: { via: 'oauth_revoke' } });
    }
  }

  /** Active only while the token verifies and its session is live; a used refresh token is inactive. */
  async introspect(token: string, clientId: string): Promise<IntrospectionResult> {
    const claims = await this.tokens.verifyAccessToken(token).catch(() => undefined);
    if (claims) {
      const live = await this.sessions.live(claims.sid);
      if (!live) return { active: false };
      return { ...claims, active: true, token_type: claims.cnf ? 'DPoP' : 'Bearer', client_id: clientId };
    }
    const row = await this.sessions.findRefreshToken(token);
    if (row && row.usedAt === null) {
      const s = await this.sessions.live(row.sessionId);
      if (s) return { active: true, token_type: 'refresh_token', sub: s.userId, sid: s.id, exp: Math.floor(row.expiresAt / 1000), iss: this.issuer };
    }
    return { active: false };
  }
}
