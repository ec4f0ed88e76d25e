import type { Clock } from '../lib/clock.js';
import { newOpaqueToken, parseOpaqueToken, randomId, safeEqual, sha256, type OpaqueToken, type SecretBox } from './crypto.js';
import { TesseraError } from './errors.js';
import type { EventLog } from './events.js';
import { graceReplay, sealPair } from './sessions/grace.js';
import { clientFingerprint, liveFamily, presentedToken, requireSessionKey, type RefreshGuard } from './sessions/refresh-checks.js';
import type { SessionRevoker } from './sessions/revoke.js';
import type { IssuedTokens, RequestContext, Transport } from './sessions/types.js';
import type { TokenService } from './tokens.js';
import type { GeoPoint, Principal, PrincipalStore, RefreshFamily, RefreshTokenRow, SessionRow, SessionStore, UserRow } from '../store/ports/index.js';

export type { IssuedTokens, RequestContext, Transport } from './sessions/types.js';
export type { RefreshGuard } from './sessions/refresh-checks.js';

export interface SessionConfig {
  accessTtlSec: number;
  refreshTtlSec: number;
  idleTtlSec: number;
  graceSec: number;
  /** put a coarse `loc` claim (where the token was issued) in access tokens */
  locationClaim: boolean;
}

export interface SessionDeps {
  store: SessionStore & PrincipalStore;
  tokens: Pick<TokenService, 'issueAccessToken'>;
  revoker: SessionRevoker;
  events: EventLog;
  box: SecretBox;
  clock: Clock;
  /** runs before every refresh is granted (the risk engine): required, so no refresh can skip it */
  refreshGuard: RefreshGuard;
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

/**
 * Sessions and rotating refresh tokens. A session is one sign-in; its refresh tokens form one family. Every
 * refresh consumes the presented token in one atomic store operation and issues a successor. Presenting a
 * consumed token again means two parties hold it (theft): the whole family is revoked — except for the same
 * client within the grace window, which gets the very same successor, so several tabs or a retried request
 * never sign a user out (and racing refreshes never create two live successors).
 */
export class SessionService {
  constructor(
    private readonly d: SessionDeps,
    private readonly cfg: SessionConfig,
  ) {}

  /** Who rotated a token: the DPoP key when there is one, else user agent + IP. */
  static clientFingerprint(ctx: RequestContext): string {
    return clientFingerprint(ctx);
  }

  async start(input: { user: UserRow; amr: string[]; authTime: number; ctx: RequestContext; transport: Transport; scope?: string }): Promise<IssuedTokens> {
    const now = this.d.clock.now();
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
    await this.d.store.createSession(session);
    const refresh = newOpaqueToken();
    await this.d.store.insertRefreshToken(refreshRow(refresh, session, null, now));
    const access = await this.issueAccess(session, input.user, session.geo);
    return this.pair(session, access.token, access.expiresIn, refresh.value);
  }

  /**
   * The token `presented` names with its session, user and OAuth holder, read once, by the id alone (the
   * route needs the session before the refresh itself proves the secret: the cookie's CSRF check, the
   * OAuth client's grants). Pass it to `refresh` to spare the read there.
   */
  async refreshFamily(presented: string): Promise<RefreshFamily | undefined> {
    const id = parseOpaqueToken(presented)?.id;
    return id === undefined ? undefined : this.d.store.getRefreshFamily(id);
  }

  /** A refresh: the checks of sessions/refresh-checks.ts in order, then the atomic rotation. */
  async refresh(presented: string, ctx: RequestContext, read?: RefreshFamily): Promise<IssuedTokens> {
    // forged or guessed tokens
    const { token: row, session, user } = presentedToken(read ?? (await this.refreshFamily(presented)), presented);
    // tokens of a revoked, expired or idle sign-in
    await liveFamily(session, row, { now: this.d.clock.now(), idleTtlMs: this.cfg.idleTtlSec * 1000, revoke: (id, why) => this.revoke(id, why) });
    // a stolen refresh token of a DPoP-bound session, presented without its key
    requireSessionKey(session, ctx);
    // a consumed token again: theft, unless it is the same client within the grace window
    if (row.usedAt !== null) return this.replayed(row.id, session, ctx);
    // a token used from an impossible place or a different device (risk engine)
    await this.d.refreshGuard(session, ctx);
    // two racing refreshes: one wins, the other is treated as a replay
    return this.rotate(row, session, user, ctx);
  }

  private async rotate(row: RefreshTokenRow, session: SessionRow, user: UserRow, ctx: RequestContext): Promise<IssuedTokens> {
    const now = this.d.clock.now();
    // disabling revokes the sessions; this refuses a refresh that raced the revocation (the user was read
    // with the session, in one statement: a session read before its revocation comes with the user as it was
    // then, and disabling marks the user before it revokes)
    if (user.disabledAt !== null) throw new TesseraError('account_disabled');
    const successor = newOpaqueToken();
    const access = await this.issueAccess(session, user, ctx.geo ?? session.geo);
    const sealed = this.cfg.graceSec > 0 ? sealPair(this.d.box, row.id, { accessToken: access.token, accessExp: access.exp, refreshToken: successor.value }) : null;
    const won = await this.d.store.rotateRefreshToken({
      id: row.id,
      usedAt: now,
      usedBy: clientFingerprint(ctx),
      successor: refreshRow(successor, session, row.id, now),
      successorSealed: sealed,
      touch: { lastSeenAt: now, ip: ctx.ip, geo: ctx.geo ?? session.geo, userAgent: ctx.userAgent },
    });
    // Lost a race with a concurrent refresh of the same token: treat it exactly like a replay, so the same
    // client gets the winner's pair and anyone else trips reuse detection.
    if (!won) return this.replayed(row.id, session, ctx);
    return this.pair(session, access.token, access.expiresIn, successor.value);
  }

  private async replayed(tokenId: string, session: SessionRow, ctx: RequestContext): Promise<IssuedTokens> {
    const now = this.d.clock.now();
    const row = await this.d.store.getRefreshToken(tokenId);
    const pair = graceReplay(this.d.box, row, { now, graceMs: this.cfg.graceSec * 1000, fingerprint: clientFingerprint(ctx) });
    if (pair) {
      const fresh = await this.d.store.getSession(session.id);
      // The same access token again: what is left of its lifetime, not a new one.
      const left = Math.max(0, pair.accessExp - Math.floor(now / 1000));
      if (fresh && fresh.revokedAt === null) return this.pair(session, pair.accessToken, left, pair.refreshToken);
    }
    await this.revoke(session.id, 'refresh_token_reused');
    await this.d.events.record({
      type: 'refresh_token_reused',
      userId: session.userId,
      sessionId: session.id,
      ip: ctx.ip,
      data: { user_agent: ctx.userAgent },
    });
    throw new TesseraError('refresh_token_reused', { reason: `token ${tokenId} replayed` });
  }

  /** Revoke one session: its refresh family dies at once and its access tokens via the revocation feed. */
  revoke(sessionId: string, reason: string): Promise<boolean> {
    return this.d.revoker.revoke(sessionId, reason);
  }

  revokeAll(userId: string, reason: string, exceptSessionId?: string): Promise<string[]> {
    return this.d.revoker.revokeAll(userId, reason, exceptSessionId);
  }

  /** A session usable for a request at `now`: not revoked, not past absolute or idle expiry. */
  async live(sessionId: string): Promise<SessionRow | undefined> {
    const s = await this.d.store.getSession(sessionId);
    return s && this.isLive(s) ? s : undefined;
  }

  /** A live session with its user and their MFA summary, read in one query (every authenticated request). */
  async livePrincipal(sessionId: string): Promise<Principal | undefined> {
    const p = await this.d.store.getPrincipal(sessionId);
    return p && this.isLive(p.session) ? p : undefined;
  }

  private isLive(s: SessionRow): boolean {
    const now = this.d.clock.now();
    return s.revokedAt === null && now < s.expiresAt && now - s.lastSeenAt <= this.cfg.idleTtlSec * 1000;
  }

  /** A session in any state (revoked and expired ones too), for ownership checks and risk reports. */
  get(sessionId: string): Promise<SessionRow | undefined> {
    return this.d.store.getSession(sessionId);
  }

  /** The user's sessions that are neither revoked nor expired, newest first. */
  listLive(userId: string): Promise<SessionRow[]> {
    return this.d.store.listLiveSessions(userId, this.d.clock.now());
  }

  /** The refresh token `presented` proves (secret compared in constant time), used or not; else undefined. */
  async findRefreshToken(presented: string): Promise<RefreshTokenRow | undefined> {
    const opaque = parseOpaqueToken(presented);
    if (!opaque) return undefined;
    const row = await this.d.store.getRefreshToken(opaque.id);
    return row && safeEqual(row.secretHash, sha256(opaque.secret)) ? row : undefined;
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
    const issued = await this.d.tokens.issueAccessToken({
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
