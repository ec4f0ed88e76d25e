/**
 * The composition root: wires adapters chosen by configuration into the core services. `tessera serve`,
 * the CLI commands and the tests all build the server through here, so they run the same code.
 */
import { createHash, hkdfSync } from 'node:crypto';
import type { Config } from './config.js';
import { AccountService } from './core/accounts.js';
import { systemClock, type Clock } from './lib/clock.js';
import { SecretBox } from './core/crypto.js';
import { EventLog } from './core/events.js';
import { loadKeyEncryptionKey } from './core/kek.js';
import { KeyManager } from './core/keys.js';
import { LoginGuard } from './core/limits.js';
import { createMfa, LoggingSmsSender, type Mfa, type SmsSender } from './core/mfa/index.js';
import { PasswordHasher } from './core/passwords.js';
import { RiskService } from './core/risk-service.js';
import { RevocationFeed } from './core/revocations.js';
import { SessionService } from './core/sessions.js';
import { TokenService } from './core/tokens.js';
import { nullGeoLocator, openGeoLocator, type GeoLocator } from './geo/mmdb.js';
import { openMailer } from './mail/connect.js';
import type { Mailer } from './mail/types.js';
import { openState, redisPrefix } from './state/connect.js';
import type { SharedState } from './state/types.js';
import { openStore } from './store/connect.js';
import type { Store } from './store/types.js';
import { pino, type Logger } from 'pino';
import { LOG_OPTIONS } from './lib/log.js';

export interface Tessera {
  config: Config;
  clock: Clock;
  store: Store;
  state: SharedState;
  box: SecretBox;
  /** derived from the KEK, for HMACs that must agree across nodes (CSRF tokens) */
  macKey: Buffer;
  keys: KeyManager;
  tokens: TokenService;
  events: EventLog;
  feed: RevocationFeed;
  sessions: SessionService;
  accounts: AccountService;
  hasher: PasswordHasher;
  mailer: Mailer;
  geo: GeoLocator;
  guard: LoginGuard;
  risk: RiskService;
  log: Logger;
  mfa: Mfa;
  close(): Promise<void>;
}

export interface TesseraOverrides {
  clock?: Clock;
  mailer?: Mailer;
  /** an SMS provider (default: LoggingSmsSender, files in <dataDir>/outbox) */
  sms?: SmsSender;
  /** don't start background timers (CLI one-shot commands) */
  oneShot?: boolean;
  log?: Logger;
  /** PostgreSQL schema to use (tests isolate each run in its own schema) */
  pgSchema?: string;
}

export async function createTessera(config: Config, overrides: TesseraOverrides = {}): Promise<Tessera> {
  const clock = overrides.clock ?? systemClock;
  const log = overrides.log ?? pino({ level: config.TESSERA_LOG_LEVEL, ...LOG_OPTIONS });
  const store = await openStore(config.databaseUrl, overrides.pgSchema ? { pgSchema: overrides.pgSchema } : {});
  const closers: Array<() => Promise<void>> = [() => store.close()];
  try {
    await store.migrate();
    const state = await openState(config.TESSERA_REDIS_URL, { prefix: redisPrefix(config) });
    closers.push(() => state.close());
    const kek = await loadKeyEncryptionKey(config);
    const box = new SecretBox(kek.key);
    const macKey = Buffer.from(hkdfSync('sha256', kek.key, createHash('sha256').update('tessera').digest(), 'tessera csrf mac', 32));
    const keys = new KeyManager(store, box, {
      alg: config.TESSERA_SIGNING_ALG,
      ...(config.TESSERA_HS256_SECRET ? { hs256Secret: config.TESSERA_HS256_SECRET } : {}),
      clock,
      reloadIntervalSec: config.TESSERA_KEY_RELOAD_INTERVAL,
    });
    await keys.init();
    if (!overrides.oneShot) {
      keys.start();
      closers.push(async () => keys.stop());
      // Housekeeping: expired challenges, reset links and revocations no token can outlive any more.
      const sweep = setInterval(() => {
        const now = clock.now();
        Promise.all([store.pruneExpired(now - 3_600_000), store.pruneRevocations(now)]).catch((err: unknown) => log.warn({ err }, 'housekeeping failed'));
      }, 10 * 60_000);
      sweep.unref();
      closers.push(async () => clearInterval(sweep));
    }
    const tokens = new TokenService(keys, { issuer: config.issuer, audience: config.audience, accessTtlSec: config.TESSERA_ACCESS_TTL, clock });
    const events = new EventLog(store, clock);
    const feed = new RevocationFeed(store, state, clock, config.TESSERA_ACCESS_TTL);
    const sessions = new SessionService(store, tokens, feed, events, box, clock, {
      accessTtlSec: config.TESSERA_ACCESS_TTL,
      refreshTtlSec: config.TESSERA_REFRESH_TTL,
      idleTtlSec: config.TESSERA_SESSION_IDLE_TTL,
      graceSec: config.TESSERA_REFRESH_GRACE,
      locationClaim: config.TESSERA_TOKEN_LOCATION_CLAIM,
    });
    const hasher = new PasswordHasher({
      memoryCost: config.TESSERA_ARGON2_MEMORY_KIB,
      timeCost: config.TESSERA_ARGON2_TIME_COST,
      parallelism: config.TESSERA_ARGON2_PARALLELISM,
    });
    const mailer = overrides.mailer ?? openMailer({ ...(config.TESSERA_SMTP_URL ? { smtpUrl: config.TESSERA_SMTP_URL } : {}), from: config.TESSERA_MAIL_FROM, dataDir: config.TESSERA_DATA_DIR });
    const accounts = new AccountService(store, hasher, sessions, events, mailer, clock, {
      passwordMinLength: config.TESSERA_PASSWORD_MIN_LENGTH,
      issuer: config.issuer,
      resetTtlSec: 30 * 60,
    });
    const guard = new LoginGuard(state, {
      perIpPer15Min: config.TESSERA_LOGIN_LIMIT_PER_IP,
      failuresBeforeBackoff: config.TESSERA_LOGIN_FAILURES_BEFORE_BACKOFF,
      accountFailuresPerDay: config.TESSERA_ACCOUNT_FAILURES_PER_DAY,
    });
    accounts.guard = guard;
    // also sets accounts.secondFactor
    const sms = overrides.sms ?? new LoggingSmsSender({ dataDir: config.TESSERA_DATA_DIR, log: (msg) => log.info(msg) });
    const mfa = createMfa(
      { store, state, box, clock, events, accounts, mailer, sms, issuer: config.issuer, allowedOrigins: config.allowedOrigins },
      { emailOtp: config.TESSERA_MFA_EMAIL_OTP, smsOtp: config.TESSERA_MFA_SMS_OTP },
    );
    // One-shot CLI commands never locate anyone: skip loading the ~130 MB city database.
    const geo = overrides.oneShot ? nullGeoLocator : await openGeoLocator(config.TESSERA_GEOIP_DB);
    const risk = new RiskService(store, sessions, events, mailer, clock, {
      minKm: config.TESSERA_TRAVEL_MIN_KM,
      maxKmh: config.TESSERA_TRAVEL_MAX_KMH,
      issuer: config.issuer,
    }, (err) => log.error({ err }, 'security mail failed'));
    sessions.refreshGuard = (session, ctx) => risk.onRefresh(session, ctx);
    accounts.loginCheck = (user, ctx) => risk.onLogin(user, ctx);
    return {
      config, clock, store, state, box, macKey, keys, tokens, events, feed, sessions, accounts, hasher, mailer, geo, guard, risk, log, mfa,
      async close() {
        for (const c of closers.reverse()) await c().catch(() => undefined);
      },
    };
  } catch (err) {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    throw err;
  }
}
