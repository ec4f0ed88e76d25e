/**
 * The composition root: wires adapters chosen by configuration into the core services. `tessera serve`,
 * the CLI commands and the tests all build the server through here, so they run the same code.
 */
import { createHash, hkdfSync } from 'node:crypto';
import { pino, type Logger } from 'pino';
import type { Config } from './config.js';
import { SecretBox } from './core/crypto.js';
import { recordKekCheck, unlockKeyEncryptionKey } from './core/kek.js';
import { Housekeeper, lifecyclePolicy } from './core/housekeeping.js';
import { DependencyMonitor } from './lib/dependencies.js';
import { Metrics } from './lib/metrics.js';
import { KeyManager } from './core/keys.js';
import { LoggingSmsSender, type SmsSender } from './core/mfa/index.js';
import type { Mailer } from './mail/types.js';
import type { PasswordHasher } from './core/passwords.js';
import { nullGeoLocator, openGeoLocator } from './geo/mmdb.js';
import { systemClock, type Clock } from './lib/clock.js';
import { LOG_OPTIONS } from './lib/log.js';
import { openMailer } from './mail/connect.js';
import { openState, redisPrefix } from './state/connect.js';
import type { SharedState } from './state/types.js';
import { openStore } from './store/connect.js';
import type { Store } from './store/ports/index.js';
import { wireServices, type TesseraServices } from './wiring.js';

export type { TesseraServices } from './wiring.js';

/** The composition root's result: the services, plus the adapters they run on (for tests and shutdown). */
export interface Tessera extends TesseraServices {
  store: Store;
  state: SharedState;
  box: SecretBox;
  hasher: PasswordHasher;
  mailer: Mailer;
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

/** Housekeeping (core/housekeeping.ts): spent tokens, ended sessions, expired links and codes, old events, revocations. */
function startHousekeeping(store: Store, clock: Clock, log: Logger, config: Config): () => Promise<void> {
  const housekeeper = new Housekeeper(store, clock, lifecyclePolicy(config), (err) => log.warn({ err }, 'housekeeping failed'));
  housekeeper.start();
  return () => housekeeper.stop();
}

export async function createTessera(config: Config, overrides: TesseraOverrides = {}): Promise<Tessera> {
  const clock = overrides.clock ?? systemClock;
  const log = overrides.log ?? pino({ level: config.TESSERA_LOG_LEVEL, ...LOG_OPTIONS });
  const store = await openStore(config.databaseUrl, { ...(overrides.pgSchema ? { pgSchema: overrides.pgSchema } : {}), warn: (message) => log.warn(message) });
  const closers: Array<() => Promise<void>> = [() => store.close()];
  try {
    // The key-encryption key is proven to be this database's before anything is migrated or sealed.
    const kek = await unlockKeyEncryptionKey(config, store, (key, sealed, aad) => new SecretBox(key).open(sealed, aad));
    await store.migrate();
    await recordKekCheck(store, kek, clock.now());
    const metrics = new Metrics();
    const dependencies = new DependencyMonitor({ database: () => store.ping() }, log.child({ component: 'dependencies' }));
    const state = await openState(config.TESSERA_REDIS_URL, {
      prefix: redisPrefix(config),
      onError: (err) => dependencies.reportError('redis', err),
      expectedNodes: config.TESSERA_EXPECTED_NODES,
    });
    closers.push(() => state.close());
    if (state.kind === 'redis') dependencies.watch('redis', () => state.ping());
    metrics.watch(dependencies, state.kind === 'redis' ? ['database', 'redis'] : ['database']);
    const box = new SecretBox(kek.key);
    const macKey = Buffer.from(hkdfSync('sha256', kek.key, createHash('sha256').update('tessera').digest(), 'tessera csrf mac', 32));
    const keys = new KeyManager(store, box, {
      alg: config.TESSERA_SIGNING_ALG,
      ...(config.TESSERA_HS256_SECRET ? { hs256Secret: config.TESSERA_HS256_SECRET } : {}),
      clock,
      reloadIntervalSec: config.TESSERA_KEY_RELOAD_INTERVAL,
      // the last good key set stays in use; a failing reload is logged (a dependency outage, or a bad row)
      onReloadError: (err) => log.warn({ err }, 'signing-key reload failed'),
    });
    await keys.init();
    if (!overrides.oneShot) {
      keys.start();
      closers.push(async () => keys.stop());
      dependencies.start();
      closers.push(async () => dependencies.stop());
      closers.push(startHousekeeping(store, clock, log, config));
    }
    // local development (a loopback issuer, no SMTP): each outbox mail is logged with its links (mail/outbox.ts)
    const mailer =
      overrides.mailer ??
      openMailer({ ...(config.TESSERA_SMTP_URL ? { smtpUrl: config.TESSERA_SMTP_URL } : {}), from: config.TESSERA_MAIL_FROM, dataDir: config.TESSERA_DATA_DIR, log: (msg) => log.info(msg), logLinks: isLoopbackIssuer(config.issuer) });
    const sms = overrides.sms ?? new LoggingSmsSender({ dataDir: config.TESSERA_DATA_DIR, log: (msg) => log.info(msg) });
    // One-shot CLI commands never locate anyone: skip loading the ~130 MB city database.
    const geo = overrides.oneShot ? nullGeoLocator : await openGeoLocator(config.TESSERA_GEOIP_DB);
    const { services, hasher } = wireServices(config, { clock, log, store, state, box, macKey, keys, mailer, sms, geo, metrics, dependencies });
    await services.oauth.init(); // RS256 ID-token keys; reloads and back-channel deliveries stop before the store closes
    if (!overrides.oneShot) {
      services.oauth.start();
      closers.push(() => services.oauth.stop());
    }
    // closed first: the notices on their way are delivered before the store and mailer go
    closers.push(() => services.notices.drain());
    closers.push(() => services.deferred.drain());
    return {
      ...services, store, state, box, hasher, mailer,
      async close() {
        for (const c of closers.reverse()) await c().catch(() => undefined);
      },
    };
  } catch (err) {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    throw err;
  }
}

/** http://localhost, 127.0.0.0/8 or [::1]: a developer's own machine */
function isLoopbackIssuer(issuer: string): boolean {
  const host = new URL(issuer).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
}
