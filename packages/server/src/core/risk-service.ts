import { LruCache } from '@tessera/sdk';
import type { Clock } from '../lib/clock.js';
import { TesseraError } from './errors.js';
import type { EventLog } from './events.js';
import { assessRisk, impossibleTravel, userAgentFamily, type RiskConfig, type RiskObservation, type RiskVerdict } from './risk.js';
import type { Mailer } from '../mail/types.js';
import { formatPlace, newSignInMail, securityAlertMail } from './notices/templates.js';
import type { SessionRevoker } from './sessions/revoke.js';
import type { RequestContext } from './sessions/types.js';
import type { SessionRow, SessionStore, UserRow, UserStore } from '../store/ports/index.js';

export interface RiskDeps {
  users: Pick<UserStore, 'getUserById' | 'setPasswordResetRequired'>;
  sessions: Pick<SessionStore, 'lastLocatedSession' | 'liveUserAgents'>;
  revoker: Pick<SessionRevoker, 'revokeAll'>;
  events: EventLog;
  mailer: Mailer;
  clock: Clock;
  /** a security mail that could not be sent (it never fails the request) */
  onMailError: (err: unknown) => void;
}

/**
 * The only rule a resource server's report can trigger account-wide (see onReport), and the one applied to
 * access tokens on the server's own routes (see onAccess): a user agent can change between an API call and
 * the next refresh for harmless reasons (another app of the same user), a place cannot jump.
 */
const TRAVEL_RULES = [impossibleTravel] as const;

/** Sessions whose last own-route place this node remembers; dropping one only loses history (LRU). */
const MAX_REMEMBERED_SESSIONS = 50_000;

/** Where this node's own routes last saw a session: its address, and its last geolocated request. */
interface SeenAt {
  ip: string;
  located: RiskObservation | undefined;
}

/**
 * Applies the pure risk engine (core/risk.ts) on login, refresh, resource-server reports and the server's
 * own authenticated routes (impossible travel only), and carries out its verdict. A block means someone else probably holds the user's token or password: refuse the
 * request, sign the user out everywhere, require a password reset (so a stolen password is not enough to
 * come back), record the event and tell the user by mail.
 */
export class RiskService {
  readonly #seen = new LruCache<string, SeenAt>(MAX_REMEMBERED_SESSIONS);

  constructor(
    private readonly d: RiskDeps,
    private readonly cfg: RiskConfig & { issuer: string },
  ) {}

  private observation(ctx: Pick<RequestContext, 'ip' | 'userAgent' | 'geo'>, kind: RiskObservation['kind']): RiskObservation {
    return { at: this.d.clock.now(), ip: ctx.ip, geo: ctx.geo, userAgent: ctx.userAgent, kind };
  }

  private static lastSeen(s: SessionRow, kind: RiskObservation['kind']): RiskObservation {
    return { at: s.lastSeenAt, ip: s.ip, geo: s.geo, userAgent: s.userAgent, kind };
  }

  /**
   * Before a password (or passkey) sign-in gets a session: compare with the user's live sessions. The login
   * rules read two things of them, and only those are read (a user with thousands of sessions must not make
   * every sign-in list them): the last located one, which only impossible travel from a located request
   * compares with, and their user agents, which only a new-device check of a known family compares with
   * (each agent an observation without a place). A rule reading more of a login's history must read more here.
   */
  async onLogin(user: UserRow, ctx: RequestContext): Promise<void> {
    const current = this.observation(ctx, 'login');
    const history: RiskObservation[] = [];
    if (ctx.userAgent !== null && userAgentFamily(ctx.userAgent)) {
      for (const userAgent of await this.d.sessions.liveUserAgents(user.id, current.at, ctx.userAgent)) history.push({ at: current.at, ip: null, geo: null, userAgent, kind: 'login' });
    }
    const last = ctx.geo !== null && ctx.geo.lat !== null && ctx.geo.lon !== null ? await this.d.sessions.lastLocatedSession(user.id, current.at) : undefined;
    if (last) history.push(RiskService.lastSeen(last, 'login'));
    await this.apply(assessRisk(history, current, this.cfg), user, null, ctx);
  }

  /** Before a refresh is granted (SessionService's required `refreshGuard`). */
  async onRefresh(session: SessionRow, ctx: RequestContext): Promise<void> {
    const verdict = assessRisk([RiskService.lastSeen(session, 'refresh')], this.observation(ctx, 'refresh'), this.cfg);
    // the user is read only when there is something to do: most refreshes are allowed, and rotate() reads it anyway
    if (verdict.action === 'allow') return;
    const user = await this.d.users.getUserById(session.userId);
    if (!user) return;
    await this.apply(verdict, user, session, ctx);
  }

  /**
   * An access token used on the server's own routes from `ip`: refused at once (not at the next refresh)
   * when it is impossible to have travelled there since the session's last geolocated request — its
   * sign-in or refresh, or an earlier request here — with the same consequences as at refresh. Cheap on the
   * hot path: while the address is the one the session was last seen at, nothing is located or compared.
   */
  async onAccess(user: UserRow, session: SessionRow, ip: string, context: () => RequestContext): Promise<void> {
    const seen = this.#seen.get(session.id);
    if (ip === (seen?.ip ?? session.ip)) return;
    const ctx = context();
    const current = this.observation(ctx, 'access');
    const history = seen?.located ? [RiskService.lastSeen(session, 'access'), seen.located] : [RiskService.lastSeen(session, 'access')];
    const verdict = assessRisk(history, current, this.cfg, TRAVEL_RULES);
    if (verdict.action === 'block') {
      this.#seen.delete(session.id);
      await this.apply(verdict, user, session, ctx);
    }
    // bounded: the least recently seen session is forgotten first
    this.#seen.set(session.id, { ip, located: typeof current.geo?.lat === 'number' && typeof current.geo.lon === 'number' ? current : seen?.located });
  }

  /**
   * A resource server saw this session's token used from `ctx.ip` (the caller has already revoked that one
   * session: a report alone does no more). Account-wide sign-out and a forced reset follow only when the
   * server's own travel rule agrees, applied to the session's history as this server observed it and to the
   * place its own database gives for the (validated) reported address. The reported user agent is only the
   * client's word: it is recorded, never a reason to sign anyone out everywhere — one set of client
   * credentials could otherwise do that to every user. The mail names only the place from our database,
   * never reported text (address or agent), so a report cannot put words in an official security mail.
   */
  async onReport(session: SessionRow, ctx: Pick<RequestContext, 'ip' | 'userAgent' | 'geo'>, clientId: string): Promise<RiskVerdict> {
    const user = await this.d.users.getUserById(session.userId);
    if (!user) return { action: 'allow' };
    const verdict = assessRisk([RiskService.lastSeen(session, 'report')], this.observation(ctx, 'report'), this.cfg, TRAVEL_RULES);
    if (verdict.action !== 'block') return verdict;
    await this.d.events.record({
      type: verdict.event,
      userId: user.id,
      sessionId: session.id,
      ip: ctx.ip,
      data: { action: verdict.action, reason: verdict.reason, ...verdict.data, reported_by: clientId, user_agent: ctx.userAgent },
    });
    await this.d.users.setPasswordResetRequired(user.id, true);
    await this.d.revoker.revokeAll(user.id, verdict.event);
    this.mail(
      user,
      securityAlertMail({ event: 'impossible_travel', place: formatPlace(ctx.geo), at: this.d.clock.now(), ip: null, device: null, resetLink: `${this.cfg.issuer}/forgot-password` }),
    );
    return verdict;
  }

  private async apply(verdict: RiskVerdict, user: UserRow, session: SessionRow | null, ctx: RequestContext): Promise<void> {
    if (verdict.action === 'allow') return;
    const placeText = formatPlace(ctx.geo);
    await this.d.events.record({
      type: verdict.event,
      userId: user.id,
      sessionId: session?.id ?? null,
      ip: ctx.ip,
      data: { action: verdict.action, reason: verdict.reason, ...verdict.data, user_agent: ctx.userAgent },
    });
    if (verdict.action === 'alert') {
      const fam = userAgentFamily(ctx.userAgent);
      this.mail(user, newSignInMail({ place: placeText, at: this.d.clock.now(), ip: ctx.ip, device: fam ? `${fam.browser} on ${fam.os}` : null, sessionsLink: `${this.cfg.issuer}/account/sessions`, newCountry: verdict.event === 'new_country' }));
      return;
    }
    await this.d.users.setPasswordResetRequired(user.id, true);
    await this.d.revoker.revokeAll(user.id, verdict.event);
    const fam = userAgentFamily(ctx.userAgent);
    this.mail(
      user,
      securityAlertMail({
        event: verdict.event === 'impossible_travel' ? 'impossible_travel' : 'session_anomaly',
        place: placeText,
        at: this.d.clock.now(),
        ip: ctx.ip,
        device: fam ? `${fam.browser} on ${fam.os}` : null,
        resetLink: `${this.cfg.issuer}/forgot-password`,
      }),
    );
    throw new TesseraError('session_revoked', { detail: 'Unusual activity: this session was signed out. Reset your password to sign in again.', reason: verdict.reason });
  }

  /** Mail is sent after the decision and never delays or fails the request; failures are logged. */
  private mail(user: UserRow, m: { subject: string; text: string; html?: string }): void {
    this.d.mailer.send({ to: user.email, ...m }).catch(this.d.onMailError);
  }
}
