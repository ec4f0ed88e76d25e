/**
 * The service graph, built in dependency order: every service receives its collaborators and security
 * hooks when it is constructed, so none exists without its checks and no assignment can be forgotten.
 *
 *   feed → revoker → risk → sessions (refreshGuard = risk.onRefresh) → completion
 *        → mfa (loginCheck = risk.onLogin, completion) → accounts (guard, loginCheck, secondFactor = mfa.login)
 */
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { AccountService } from './core/accounts.js';
import { AdminUsers } from './core/admin-users.js';
import { ClientService } from './core/clients.js';
import type { SecretBox } from './core/crypto.js';
import { EventLog } from './core/events.js';
import { FeedTail, type FeedTailOptions } from './core/feed-tail.js';
import type { DependencyMonitor } from './lib/dependencies.js';
import type { Metrics } from './lib/metrics.js';
import { Readiness } from './core/health.js';
import { Introspection } from './core/introspection.js';
import type { KeyManager } from './core/keys.js';
import { accountExport, LifecycleService, type AccountExport } from './core/lifecycle/index.js';
import { LoginGuard, RouteLimits } from './core/limits.js';
import { LoginApprovals } from './core/login/approvals.js';
import { LoginCompletion } from './core/login/complete.js';
import type { LoginCheck } from './core/login/hooks.js';
import { buildOAuthProvider } from './core/oauth/index.js';
import { OAuthService } from './core/oauth/service.js';
import { createMfa, type Mfa, type SmsSender } from './core/mfa/index.js';
import type { Mailer } from './mail/types.js';
import { SecurityNotices } from './core/notices/notices.js';
import { DeferredWork } from './lib/deferred.js';
import { PasswordHasher } from './core/passwords.js';
import { ReplayCache } from './core/replay.js';
import { RevocationFeed } from './core/revocations.js';
import { RiskService } from './core/risk-service.js';
import { AccountReclaim } from './core/reclaim.js';
import { SessionService } from './core/sessions.js';
import { SignUp } from './core/signup.js';
import { EmailVerification } from './core/verification.js';
import { SessionRevoker } from './core/sessions/revoke.js';
import { TokenService } from './core/tokens.js';
import type { GeoLocator } from './geo/mmdb.js';
import type { Clock } from './lib/clock.js';
import type { SharedState } from './state/types.js';
import type { Store, UserRow } from './store/ports/index.js';

/**
 * What the HTTP layer (and the CLI commands) work with: the core services, configuration, log and clock —
 * never a storage, shared-state or sealing adapter, so every query goes through a service and its checks.
 */
export interface TesseraServices {
  config: Config;
  clock: Clock;
  log: Logger;
  /** derived from the KEK, for HMACs that must agree across nodes (CSRF tokens) */
  macKey: Buffer;
  geo: GeoLocator;
  keys: KeyManager;
  tokens: TokenService;
  events: EventLog;
  feed: RevocationFeed;
  sessions: SessionService;
  accounts: AccountService;
  /** `POST /v1/accounts`: sign-up that does not reveal taken addresses */
  signUp: SignUp;
  /** verification links: sending, resending, consuming */
  verification: EmailVerification;
  /** change of email and deletion */
  lifecycle: LifecycleService;
  /** the security notices by mail (drained at shutdown) */
  notices: SecurityNotices;
  /** mail work queued after a response (sign-up, verification resends; drained at shutdown) */
  deferred: DeferredWork;
  /** the document of everything held about a user (`GET /v1/me/export`) */
  exportAccount(user: UserRow): Promise<AccountExport>;
  /** the admin user list, disable and enable */
  adminUsers: AdminUsers;
  /** approval links for a correct password past the daily failure cap */
  approvals: LoginApprovals;
  guard: LoginGuard;
  risk: RiskService;
  mfa: Mfa;
  clients: ClientService;
  /** the OpenID Connect provider: clients, authorization, token grants, logout, the user's apps */
  oauth: OAuthService;
  introspection: Introspection;
  limits: RouteLimits;
  /** DPoP proof `jti`s seen by any node */
  dpopReplays: ReplayCache;
  readiness: Readiness;
  /** this node's tail of the revocation feed, which wakes the SSE streams (core/feed-tail.ts) */
  openFeedTail(opts: FeedTailOptions): FeedTail;
  /** Prometheus registry and collectors of this node (lib/metrics.ts) */
  metrics: Metrics;
  /** database and Redis reachability, probed every second; outages logged once with their duration */
  dependencies: DependencyMonitor;
}

/** The adapters configuration chose, opened and ready. */
export interface Adapters {
  clock: Clock;
  log: Logger;
  store: Store;
  state: SharedState;
  box: SecretBox;
  macKey: Buffer;
  keys: KeyManager;
  mailer: Mailer;
  sms: SmsSender;
  geo: GeoLocator;
  metrics: Metrics;
  dependencies: DependencyMonitor;
}

/** Revocation, risk and sessions: the refresh path and everything that ends a session. */
function sessionServices(config: Config, a: Adapters, events: EventLog) {
  const { store, state, clock, log } = a;
  const tokens = new TokenService(a.keys, { issuer: config.issuer, audience: config.audience, accessTtlSec: config.TESSERA_ACCESS_TTL, clock });
  const feed = new RevocationFeed(store, state, clock, config.TESSERA_ACCESS_TTL);
  const revoker = new SessionRevoker(store, feed, clock, (err) => log.warn({ err }, 'revocation wake-up not published; nodes catch up from the feed'));
  const risk = new RiskService(
    { users: store, sessions: store, revoker, events, mailer: a.mailer, clock, onMailError: (err) => log.error({ err }, 'security mail failed') },
    { minKm: config.TESSERA_TRAVEL_MIN_KM, maxKmh: config.TESSERA_TRAVEL_MAX_KMH, issuer: config.issuer },
  );
  const sessions = new SessionService(
    { store, tokens, revoker, events, box: a.box, clock, refreshGuard: (session, ctx) => risk.onRefresh(session, ctx) },
    {
      accessTtlSec: config.TESSERA_ACCESS_TTL,
      refreshTtlSec: config.TESSERA_REFRESH_TTL,
      idleTtlSec: config.TESSERA_SESSION_IDLE_TTL,
      graceSec: config.TESSERA_REFRESH_GRACE,
      locationClaim: config.TESSERA_TOKEN_LOCATION_CLAIM,
    },
  );
  return { tokens, feed, risk, sessions };
}

/** Password, second factor and passkey sign-in, sharing one completion step and one risk check. */
function signInServices(config: Config, a: Adapters, events: EventLog, sessions: SessionService, risk: RiskService) {
  const { store, state, clock, log } = a;
  const hasher = new PasswordHasher({
    memoryCost: config.TESSERA_ARGON2_MEMORY_KIB,
    timeCost: config.TESSERA_ARGON2_TIME_COST,
    parallelism: config.TESSERA_ARGON2_PARALLELISM,
  });
  const guard = new LoginGuard(state, {
    perIpPer15Min: config.TESSERA_LOGIN_LIMIT_PER_IP,
    failuresBeforeBackoff: config.TESSERA_LOGIN_FAILURES_BEFORE_BACKOFF,
    accountFailuresPerDay: config.TESSERA_ACCOUNT_FAILURES_PER_DAY,
  });
  const completion = new LoginCompletion(sessions, events, clock);
  const loginCheck: LoginCheck = (user, ctx) => risk.onLogin(user, ctx);
  const mfa = createMfa(
    {
      stores: { users: store, totp: store, recovery: store, webauthn: store, challenges: store, phones: store, counts: store },
      state,
      box: a.box,
      clock,
      events,
      mailer: a.mailer,
      sms: a.sms,
      issuer: config.issuer,
      allowedOrigins: config.allowedOrigins,
      loginCheck,
      completion,
      guard,
      onMailError: (err) => log.error({ err }, 'security mail failed'),
    },
    { emailOtp: config.TESSERA_MFA_EMAIL_OTP, smsOtp: config.TESSERA_MFA_SMS_OTP, totpFailuresPerDay: config.TESSERA_TOTP_FAILURES_PER_DAY },
  );
  const approvals = new LoginApprovals({ challenges: store, users: store, guard, state, events, mailer: a.mailer, clock }, { issuer: config.issuer });
  // mail work after the response: its duration must not tell a free address from a taken one
  const deferred = new DeferredWork((err) => log.error({ err }, 'deferred mail work failed'));
  const defer = (work: () => Promise<void>): void => deferred.run(work);
  const verification = new EmailVerification({ users: store, verifications: store, state, events, mailer: a.mailer, clock }, { issuer: config.issuer });
  const signUp = new SignUp({ users: store, hasher, verification, state, events, mailer: a.mailer, clock, defer }, { passwordMinLength: config.TESSERA_PASSWORD_MIN_LENGTH, issuer: config.issuer });
  const reclaim = new AccountReclaim({ factors: mfa.manage, events, mailer: a.mailer, onMailError: (err) => log.error({ err }, 'security mail failed') }, { issuer: config.issuer });
  const accounts = new AccountService(
    { users: store, resets: store, hasher, events, mailer: a.mailer, clock, sessions, guard, loginCheck, secondFactor: mfa.login, completion, approvals, verification, reclaim, defer },
    { passwordMinLength: config.TESSERA_PASSWORD_MIN_LENGTH, issuer: config.issuer, resetTtlSec: 30 * 60, requireVerifiedEmail: config.TESSERA_REQUIRE_VERIFIED_EMAIL },
  );
  return { hasher, guard, mfa, accounts, approvals, signUp, verification, deferred };
}

/** Security notices, change of email, deletion, export and the admin user list. */
function lifecycleServices(config: Config, a: Adapters, events: EventLog, sessions: SessionService, guard: LoginGuard, mfa: Mfa) {
  const { store, clock, log } = a;
  const notices = new SecurityNotices({ users: store, mailer: a.mailer, clock, issuer: config.issuer, onMailError: (err) => log.error({ err }, 'security mail failed') });
  events.listeners.push(notices.onEvent);
  const lifecycle = new LifecycleService(
    { users: store, lifecycle: store, resets: store, sessions, events, notices, clock, clearCounters: (email) => guard.clear(email) },
    { issuer: config.issuer },
  );
  const adminUsers = new AdminUsers({ users: store, lifecycle: store, sessions, events, clock });
  const exportAccount = (user: UserRow) => accountExport({ lifecycle: store, oauth: store, events, mfa: mfa.manage }, user);
  return { notices, lifecycle, adminUsers, exportAccount };
}

/** The OpenID Connect provider behind one facade (core/oauth/service.ts); its keys load in createTessera. */
function oauthService(config: Config, a: Adapters, events: EventLog, sessions: SessionService, feed: RevocationFeed): OAuthService {
  const provider = buildOAuthProvider({
    store: a.store,
    oauth: a.store,
    box: a.box,
    keys: a.keys,
    sessions,
    events,
    feed,
    clock: a.clock,
    locate: (ip) => a.geo.locate(ip),
    issuer: config.issuer,
    audience: config.audience,
    accessTtlSec: config.TESSERA_ACCESS_TTL,
    backchannel: { onError: (err) => a.log.warn({ err }, 'back-channel logout pass failed') },
  });
  return new OAuthService(provider, a.store, config.TESSERA_KEY_RELOAD_INTERVAL, (err) => a.log.warn({ err }, 'ID-token key reload failed'));
}

export function wireServices(config: Config, a: Adapters): { services: TesseraServices; hasher: PasswordHasher } {
  const { store, state, clock } = a;
  const events = new EventLog(store, clock);
  events.observer = (type) => a.metrics.observeEvent(type);
  const { tokens, feed, risk, sessions } = sessionServices(config, a, events);
  const { hasher, guard, mfa, accounts, approvals, signUp, verification, deferred } = signInServices(config, a, events, sessions, risk);
  a.metrics.watchHashing(() => hasher.load());
  const { notices, lifecycle, adminUsers, exportAccount } = lifecycleServices(config, a, events, sessions, guard, mfa);
  const oauth = oauthService(config, a, events, sessions, feed);
  const services: TesseraServices = {
    config,
    clock,
    log: a.log,
    macKey: a.macKey,
    geo: a.geo,
    keys: a.keys,
    tokens,
    events,
    feed,
    sessions,
    accounts,
    signUp,
    verification,
    lifecycle,
    notices,
    deferred,
    exportAccount,
    adminUsers,
    approvals,
    guard,
    risk,
    mfa,
    clients: new ClientService(store, clock),
    oauth,
    introspection: new Introspection(tokens, sessions, events, config.issuer),
    limits: new RouteLimits(state, { perSecond: config.TESSERA_RATE_LIMIT_PER_SECOND, loginPerIpPer15Min: config.TESSERA_LOGIN_LIMIT_PER_IP, riskReportsPerMinute: config.TESSERA_RISK_REPORTS_PER_MINUTE }),
    dpopReplays: new ReplayCache(state, 'dpop'),
    readiness: new Readiness({ database: () => store.ping(), state: () => state.ping() }),
    openFeedTail: (opts) => new FeedTail(store, state, opts),
    metrics: a.metrics,
    dependencies: a.dependencies,
  };
  return { services, hasher };
}
