import { z } from 'zod';
import { closest } from './lib/suggest.js';

/**
 * The one configuration schema. Every option is an environment variable (and the same name as a CLI flag,
 * see cli/main.ts); it is validated at start-up, and docs/configuration.md is generated from it
 * (`npm run docs:config`), so the table and the code cannot disagree.
 */
const bool = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const configSchema = z.object({
  PORT: int(0, 65535).default(3000).describe('listen port'),
  HOST: z.string().min(1).default('127.0.0.1').describe('listen address'),
  TESSERA_ISSUER: z
    .url({ protocol: /^https?$/, error: 'an absolute http:// or https:// URL (https://auth.example.com)' })
    .optional().describe('`iss` of every token; also the audience default (default http://localhost:$PORT)'),
  TESSERA_AUDIENCE: z.string().min(1).optional().describe('`aud` of access tokens (default: the issuer)'),
  TESSERA_DATA_DIR: z.string().min(1).default('./data').describe('folder for the SQLite file, the generated key-encryption key and the mail outbox'),
  TESSERA_DATABASE_URL: z.string().min(1).optional().describe('`sqlite:PATH`, `sqlite::memory:`, `postgres://…` (`?schema=NAME` picks a schema) or `mysql://…` / `mariadb://…` (the path names the database, created if missing) (default sqlite:$TESSERA_DATA_DIR/tessera.db)'),
  TESSERA_REDIS_URL: z.string().regex(/^rediss?:\/\//).optional().describe('`redis://…`: shared rate limits, revocations, replay caches (default: in-process)'),
  TESSERA_ACCESS_TTL: int(30, 86_400).default(300).describe('access-token lifetime, seconds'),
  TESSERA_REFRESH_TTL: int(60, 31_536_000).default(1_209_600).describe('absolute session / refresh lifetime, seconds'),
  TESSERA_SESSION_IDLE_TTL: int(60, 31_536_000).default(604_800).describe('a session unused this long (seconds) expires'),
  TESSERA_REFRESH_GRACE: int(0, 60).default(10).describe('seconds in which a same-client replay gets the same successor (0 disables)'),
  TESSERA_EVENT_RETENTION_DAYS: int(1, 36_500).default(400).describe('security events older than this many days are deleted by housekeeping'),
  TESSERA_ENDED_SESSION_RETENTION: int(0, 31_536_000).default(86_400).describe('seconds a revoked session and its refresh tokens are kept (a replay is reported as reuse until then); idle-expired sessions go this long after their idle expiry'),
  TESSERA_SIGNING_ALG: z.enum(['EdDSA', 'ES256', 'HS256']).default('EdDSA').describe('signing algorithm of access tokens'),
  TESSERA_HS256_SECRET: z.string().min(32).optional().describe('shared secret (≥ 32 bytes) when TESSERA_SIGNING_ALG=HS256'),
  TESSERA_KEY_ENCRYPTION_KEY: z.string().regex(/^[A-Za-z0-9_-]{43}$/, '32 bytes, base64url').optional().describe('base64url 32-byte key encrypting private keys and secrets at rest (default: generated into the data folder)'),
  TESSERA_KEY_RELOAD_INTERVAL: int(1, 3600).default(5).describe('seconds between checks for keys rotated by another node or the CLI'),
  TESSERA_TRUST_PROXY: z.string().optional().describe('`loopback` or a CIDR list whose X-Forwarded-For is believed (default: ignored)'),
  TESSERA_ALLOWED_ORIGINS: z.string().optional().describe('comma-separated origins allowed for cookie-mode requests and CORS (default: the issuer origin)'),
  TESSERA_SMTP_URL: z.string().regex(/^smtps?:\/\//).optional().describe('`smtp://host:port` for mail (default: log + data/outbox/)'),
  TESSERA_MAIL_FROM: z.string().default('Tessera <no-reply@localhost>').describe('From address of mail'),
  TESSERA_GEOIP_DB: z.string().optional().describe('path to a MaxMind-format .mmdb (default: the bundled DB-IP city database)'),
  TESSERA_COOKIE_SECURE: bool.default(true).describe('`false` only for plain-http development on a non-localhost name'),
  TESSERA_BROWSER_KEY_BINDING: bool.default(true).describe('bind cookie-mode (browser) sessions signed in with a DPoP proof to the page\'s non-extractable key (docs/security.md); off, such sign-ins are unbound (a copied cookie works until it expires)'),
  TESSERA_PASSWORD_MIN_LENGTH: int(8, 128).default(8).describe('minimum password length (NIST SP 800-63B-4; 15 advised without MFA)'),
  TESSERA_ARGON2_MEMORY_KIB: int(19_456, 1_048_576).default(19_456).describe('argon2id memory cost, KiB (≥ 19 MiB)'),
  TESSERA_ARGON2_TIME_COST: int(2, 20).default(2).describe('argon2id iterations'),
  TESSERA_ARGON2_PARALLELISM: int(1, 16).default(1).describe('argon2id lanes'),
  TESSERA_RATE_LIMIT_PER_SECOND: int(1, 1_000_000).default(50).describe('requests per second per client IP on every route'),
  TESSERA_LOGIN_LIMIT_PER_IP: int(1, 1_000_000).default(100).describe('login/MFA/reset/sign-up attempts per IP per 15 minutes'),
  TESSERA_LOGIN_FAILURES_BEFORE_BACKOFF: int(1, 100).default(5).describe('consecutive failures per (account, IP) before exponential backoff'),
  TESSERA_ACCOUNT_FAILURES_PER_DAY: int(1, 1_000_000).default(100).describe('failed logins per account per day from all IPs before it is slowed down'),
  TESSERA_MFA_EMAIL_OTP: bool.default(false).describe('offer one-time codes by email as a second factor (off: whoever reads the mailbox can already reset the password)'),
  TESSERA_TOTP_FAILURES_PER_DAY: int(1, 1000).default(10).describe('wrong authenticator (TOTP) codes per account per day before TOTP is locked until a recovery code or a password reset'),
  TESSERA_MFA_SMS_OTP: bool.default(false).describe('offer one-time codes by SMS to a confirmed phone as a second factor (off: SIM swap and interception make SMS a restricted authenticator; plug a provider into SmsSender, the default only writes data/outbox/sms-*.json)'),
  TESSERA_TOKEN_LOCATION_CLAIM: bool.default(true).describe('put a coarse `loc` claim (issue place, 0.1°) in access tokens, for the SDK\'s local impossible-travel check'),
  TESSERA_TRAVEL_MIN_KM: int(0, 40_000).default(500).describe('impossible travel: distance floor after subtracting accuracy radii, km'),
  TESSERA_TRAVEL_MAX_KMH: int(1, 100_000).default(1000).describe('impossible travel: implied speed above which a request is blocked, km/h'),
  // production operation (docs/operations.md)
  TESSERA_SHUTDOWN_GRACE: int(0, 3600).default(10).describe('seconds a node drains in-flight requests after SIGTERM before it exits'),
  TESSERA_EXPECTED_NODES: int(1, 10_000).default(1).describe('nodes sharing one Redis: while Redis is down each node limits to its share (limit ÷ nodes), so the fleet keeps the configured limits'),
  // Security review: deployment namespaces, admin step-up, metrics access, risk-report limits.
  TESSERA_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'letters, digits and : _ . - (at most 64)').optional().describe('namespace of every Redis key and channel, so deployments sharing a Redis never mix (default: derived from the issuer)'),
  TESSERA_REQUIRE_VERIFIED_EMAIL: bool.default(true).describe('a correct password of an account whose email is not confirmed answers 403 `email_unverified` (`false`: it signs in; unconfirmed accounts still cannot enrol factors, and accounts from before verification existed always sign in)'),
  TESSERA_ADMIN_REQUIRE_MFA: bool.default(true).describe('admin actions need a session whose `amr` holds a second factor (and, always, a sign-in within 5 minutes)'),
  TESSERA_REQUEST_TIMEOUT: int(1, 3600).default(30).describe('seconds a client has to send a whole request (headers and body); slower ones get 408 and are closed'),
  TESSERA_MAX_CONNECTIONS_PER_IP: int(1, 1_000_000).default(256).describe('open connections allowed per peer address (trusted proxies are not bounded); more are closed at once'),
  TESSERA_METRICS_TOKEN: z.string().min(16).optional().describe('`Authorization: Bearer <token>` required for `/metrics` (default: unset, `/metrics` answers loopback peers only)'),
  TESSERA_RISK_REPORTS_PER_MINUTE: int(1, 1_000_000).default(60).describe('risk reports (`POST /v1/risk/reports`) accepted per resource-server client per minute'),
  TESSERA_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('log level'),
});

export type RawConfig = z.infer<typeof configSchema>;

export interface Config extends RawConfig {
  issuer: string;
  audience: string;
  databaseUrl: string;
  allowedOrigins: string[];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * `TESSERA_*` variables that configure nothing, each with a did-you-mean: a misspelt name would otherwise
 * leave its setting at the default without a word. `TESSERA_TEST_*` belongs to the test suite.
 */
export function unknownVariables(env: Record<string, string | undefined>): string[] {
  const names = Object.keys(configSchema.shape);
  return Object.keys(env)
    .filter((k) => k.startsWith('TESSERA_') && !k.startsWith('TESSERA_TEST_') && !(k in configSchema.shape))
    .map((k) => {
      const guess = closest(k, names);
      return `${k} is not a Tessera variable${guess ? ` (did you mean ${guess}?)` : ''}; it is ignored`;
    });
}

/** Parse and validate configuration from an environment-like record. Unknown variables are ignored (see unknownVariables). */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') picked[key] = v;
  }
  const parsed = configSchema.safeParse(picked);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const raw = parsed.data;
  if (raw.TESSERA_SIGNING_ALG === 'HS256' && !raw.TESSERA_HS256_SECRET) {
    throw new ConfigError('invalid configuration:\n  TESSERA_HS256_SECRET: required (≥ 32 bytes) when TESSERA_SIGNING_ALG=HS256');
  }
  const issuer = (raw.TESSERA_ISSUER ?? `http://localhost:${raw.PORT}`).replace(/\/+$/, '');
  const origin = new URL(issuer).origin;
  return {
    ...raw,
    issuer,
    audience: raw.TESSERA_AUDIENCE ?? issuer,
    databaseUrl: raw.TESSERA_DATABASE_URL ?? `sqlite:${raw.TESSERA_DATA_DIR.replace(/\/+$/, '')}/tessera.db`,
    allowedOrigins: raw.TESSERA_ALLOWED_ORIGINS
      ? raw.TESSERA_ALLOWED_ORIGINS.split(',').map((s) => s.trim().replace(/\/+$/, '')).filter(Boolean)
      : [origin],
  };
}
