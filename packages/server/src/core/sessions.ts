import type { Clock } from '../lib/clock.js';
import { newOpaqueToken, parseOpaqueToken, randomId, safeEqual, sha256, type OpaqueToken, type SecretBox } from './crypto.js';
import { TesseraError } from './errors.js';
import type { EventLog } from './events.js';
import type { RevocationFeed } from './revocations.js';
import type { TokenService } from './tokens.js';
import type { GeoPoint, RefreshTokenRow, SessionRow, Store, UserRow } from '../store/ports/index.js';

/** What the HTTP edge knows about the caller, used for device binding, risk and the audit log. */
export interface RequestContext {
  ip: string;
  userAgent: string | null;
  geo: GeoPoint | null;
  /** RFC 7638 thumbprint of a verified DPoP proof's key, when one was sent */
  dpopJkt?: string | undefined;
}

export interface IssuedTokens {
  accessToken: string;
  tokenType: 'Bearer' | 'DPoP';
  expiresIn: number;
  refreshToken: string;
  sessionId: string;
}

interface SealedPair {
  accessToken: string;
  accessExp: number;
  refreshToken: string;
}

export interface SessionConfig {
  accessTtlSec: number;
  refreshTtlSec: number;
  idleTtlSec: number;
  graceSec: number;
  /** put a coarse `loc` claim (where the token was issued) in access tokens */
  locationClaim: boolean;
}

/** A fresh, unused refresh token of `session`'s family; only the hash of its secret is stored. */
function refreshRow(token: OpaqueToken, session: SessionRow, parentId: string | null, now: number): RefreshTokenRow {
  return {
    id: token.id,
    sessionId: session.id,
    secretHash: token.hash,
    parentId,
    createdAt: now,
    expiresAt: session.expiresAt,
    usedAt: null,
    usedBy: null,
    successorId: null,
    successorSealed: null,
  };
}

/** Hook run before a refresh is granted; throws to refuse (the risk engine plugs in here). */
export type RefreshGuard = (session: SessionRow, ctx: RequestContext) => Promise<void>;

/**
 * Sessions and rotating refresh tokens. A session is one sign-in; its refresh tokens form one family. Every
 * refresh consumes the presented token in one atomic store operation and issues a successor. Presenting a
 * consumed token again means two parties hold it (theft): the whole family is revoked — except for the same
 * client within the grace window, which gets the very same successor, so several tabs or a retried request
 * never sign a user out (and racing refreshes never create two live successors).
 */
export class SessionService {
  refreshGuard: RefreshGuard | undefined;

  constructor(
    private readonly store: Store,
    private readonly tokens: TokenService,
    private readonly feed: RevocationFeed,
    private readonly events: EventLog,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly cfg: SessionConfig,
  ) {}

  /** Who rotated a token: the DPoP key when there is one, else user agent + IP. */
  static clientFingerprint(ctx: RequestContext): string {
    return ctx.dpopJkt ? `jkt:${ctx.dpopJkt}` : `ua:${sha256(`${ctx.userAgent ?? ''}\n${ctx.ip}`)}`;
  }

  async start(input: { user: UserRow; amr: string[]; authTime: number; ctx: RequestContext; transport: 'bearer' | 'cookie'; scope?: string }): Promise<IssuedTokens> {
    const now = this.clock.now();
    const session: SessionRow = {
      id: randomId(),
      userId: input.user.id,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + this.cfg.refreshTtlSec * 1000,
      ip: input.ctx.ip,
      geo: input.ctx.geo,
      userAgent: input.ctx.userAgent,
      amr: input.amr,
      authTime: input.authTime,
      dpopJkt: input.ctx.dpopJkt ?? null,
      transport: input.transport,
      revokedAt: null,
      revokeReason: null,
    };
    await this.store.createSession(session);
    const refresh = newOpaqueToken();
    await this.store.insertRefreshToken(refreshRow(refresh, session, null, now));
    const access = await this.issueAccess(session, input.user, session.geo);
    return this.pair(session, access.token, access.expiresIn, refresh.value);
  }

  async refresh(presented: string, ctx: RequestContext): Promise<IssuedTokens> {
    const parsed = parseOpaqueToken(presented);
    if (!parsed) throw new TesseraError('invalid_grant', { reason: 'malformed refresh token' });
    const row = await this.store.getRefreshToken(parsed.id);
    // Constant-time hash comparison: the id is not secret, the secret is.
    if (!row || !safeEqual(row.secretHash, sha256(parsed.secret))) {
      throw new TesseraError('invalid_grant', { reason: 'unknown refresh token' });
    }
    const session = await this.store.getSession(row.sessionId);
    const now = this.clock.now();
    if (!session) throw new TesseraError('invalid_grant', { reason: 'session gone' });
    if (session.revokedAt !== null) {
      // A consumed token of an already revoked family is still a replay: say so, so clients can tell theft
      // from expiry.
      if (row.usedAt !== null) throw new TesseraError('refresh_token_reused', { reason: 'replay of a revoked family' });
      throw new TesseraError('invalid_grant', { reason: 'session revoked' });
    }
    if (now >= session.expiresAt || now >= row.expiresAt) throw new TesseraError('invalid_grant', { reason: 'session expired' });
    if (now - session.lastSeenAt > this.cfg.idleTtlSec * 1000) {
      await this.revoke(session.id, 'idle_timeout');
      throw new TesseraError('invalid_grant', { reason: 'session idle too long' });
    }
    // A DPoP-bound session refreshes only with a proof from the same key (RFC 9449 §5): a stolen refresh
    // token alone is useless.
    if (session.dpopJkt && session.dpopJkt !== ctx.dpopJkt) {
      throw new TesseraError('invalid_dpop_proof', { reason: 'refresh without the session key' });
    }

    if (row.usedAt !== null) return this.replayed(row.id, session, ctx);

    if (this.refreshGuard) await this.refreshGuard(session, ctx);

    const user = await this.store.getUserById(session.userId);
    if (!user) throw new TesseraError('invalid_grant', { reason: 'user gone' });
    const successor = newOpaqueToken();
    const access = await this.issueAccess(session, user, ctx.geo ?? session.geo);
    const sealed = this.cfg.graceSec > 0
      ? this.box.seal(JSON.stringify({ accessToken: access.token, accessExp: access.exp, refreshToken: successor.value } satisfies SealedPair), `grace:${row.id}`)
      : null;
    const won = await this.store.rotateRefreshToken({
      id: row.id,
      usedAt: now,
      usedBy: SessionService.clientFingerprint(ctx),
      successor: refreshRow(successor, session, row.id, now),
      successorSealed: sealed,
    });
    // Lost a race with a concurrent refresh of the same token: treat it exactly like a replay, so the same
    // client gets the winner's pair and anyone else trips reuse detection.
    if (!won) return this.replayed(row.id, session, ctx);
    await this.store.touchSession(session.id, { lastSeenAt: now, ip: ctx.ip, geo: ctx.geo ?? session.geo, userAgent: ctx.userAgent });
    return this.pair(session, access.token, access.expiresIn, successor.value);
  }

  private async replayed(tokenId: string, session: SessionRow, ctx: RequestContext): Promise<IssuedTokens> {
    const row = await this.store.getRefreshToken(tokenId);
    const now = this.clock.now();
    if (
      row?.usedAt != null &&
      row.successorSealed &&
      this.cfg.graceSec > 0 &&
      now - row.usedAt <= this.cfg.graceSec * 1000 &&
      row.usedBy === SessionService.clientFingerprint(ctx)
    ) {
      const pair = JSON.parse(this.box.open(row.successorSealed, `grace:${row.id}`)) as SealedPair;
      const fresh = await this.store.getSession(session.id);
      // The same access token again: what is left of its lifetime, not a new one.
      const left = Math.max(0, pair.accessExp - Math.floor(now / 1000));
      if (fresh && fresh.revokedAt === null) return this.pair(session, pair.accessToken, left, pair.refreshToken);
    }
    await this.revoke(session.id, 'refresh_token_reused');
    await this.events.record({
      type: 'refresh_token_reused',
      userId: session.userId,
      sessionId: session.id,
      ip: ctx.ip,
      data: { user_agent: ctx.userAgent },
    });
    throw new TesseraError('refresh_token_reused', { reason: `token ${tokenId} replayed` });
  }

  /** Revoke one session: its refresh family dies at once and its access tokens via the revocation feed. */
  async revoke(sessionId: string, reason: string): Promise<boolean> {
    const at = this.clock.now();
    const until = this.feed.untilFor(at);
    const cursor = await this.store.revokeSession(sessionId, reason, at, until);
    if (cursor !== null) await this.feed.announceSessions([{ sid: sessionId, cursor }], at, until);
    return cursor !== null;
  }

  async revokeAll(userId: string, reason: string, exceptSessionId?: string): Promise<string[]> {
    const at = this.clock.now();
    const until = this.feed.untilFor(at);
    const rows = await this.store.revokeUserSessions(userId, reason, at, until, exceptSessionId);
    await this.feed.announceSessions(rows, at, until);
    return rows.map((r) => r.sid);
  }

  /** A session usable for a request at `now`: not revoked, not past absolute or idle expiry. */
  async live(sessionId: string): Promise<SessionRow | undefined> {
    const s = await this.store.getSession(sessionId);
    const now = this.clock.now();
    if (!s || s.revokedAt !== null || now >= s.expiresAt || now - s.lastSeenAt > this.cfg.idleTtlSec * 1000) return undefined;
    return s;
  }

  private async issueAccess(session: SessionRow, user: UserRow, geo: GeoPoint | null): Promise<{ token: string; exp: number; expiresIn: number }> {
    const loc = this.cfg.locationClaim && geo?.lat != null && geo.lon != null
      ? {
          // one decimal (~11 km): enough for a 500 km travel rule, no street address in every token
          lat: Math.round(geo.lat * 10) / 10,
          lon: Math.round(geo.lon * 10) / 10,
          ...(geo.accuracyKm != null ? { acc: geo.accuracyKm } : {}),
        }
      : undefined;
    const issued = await this.tokens.issueAccessToken({
      ...(loc ? { loc } : {}),
      sub: user.id,
      sid: session.id,
      authTime: session.authTime,
      amr: session.amr,
      roles: user.isAdmin ? ['admin'] : [],
      ...(session.dpopJkt ? { jkt: session.dpopJkt } : {}),
    });
    return { token: issued.token, exp: issued.exp, expiresIn: issued.expiresIn };
  }

  private pair(session: SessionRow, accessToken: string, expiresIn: number, refreshToken: string): IssuedTokens {
    return {
      accessToken,
      tokenType: session.dpopJkt ? 'DPoP' : 'Bearer',
      // A new token's own lifetime (exp - iat), not re-read from a clock that may have ticked meanwhile.
      expiresIn,
      refreshToken,
      sessionId: session.id,
    };
  }
}
