import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { parseIp } from '../lib/client-ip.js';
import { boundedMemo } from '../lib/memo.js';
import type { SharedState } from '../state/types.js';
import { TesseraError } from './errors.js';

/**
 * Brute-force and flood limits, storage-agnostic over SharedState limiters (one counter across all nodes).
 * Policy after the OWASP Authentication cheat sheet and rate-limiter-flexible's "login endpoint protection":
 * a per-IP attempt cap, per-(account, IP) exponential backoff, and a per-account daily failure cap that
 * spares addresses the user has signed in from — so no single attacker can lock a victim out.
 */

export type RateLimitHeaders = Record<string, string>;

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/** draft-ietf-httpapi-ratelimit-headers fields plus Retry-After when refused; all whole seconds. */
export function rateLimitHeaders(limit: number, remaining: number, msBeforeReset: number, refused: boolean): RateLimitHeaders {
  const reset = String(seconds(msBeforeReset));
  const headers: RateLimitHeaders = {
    'RateLimit-Limit': String(limit),
    'RateLimit-Remaining': String(Math.max(0, remaining)),
    'RateLimit-Reset': reset,
  };
  if (refused) headers['Retry-After'] = reset;
  return headers;
}

export function rateLimited(limit: number, msBeforeReset: number, reason: string): TesseraError {
  return new TesseraError('rate_limited', { reason, headers: rateLimitHeaders(limit, 0, msBeforeReset, true) });
}

/** A key with no expiry reports -1 ms; treat it as one window of the limiter. */
function msLeft(limiter: RateLimiterAbstract, res: RateLimiterRes): number {
  return res.msBeforeNext >= 0 ? res.msBeforeNext : limiter.duration * 1000;
}

/**
 * Consumes `points` for `key`; on success returns the RateLimit-* headers, otherwise throws
 * TesseraError('rate_limited') with Retry-After. Store failures (no insurance limiter) propagate as errors.
 */
export async function limitOrThrow(limiter: RateLimiterAbstract, key: string, points = 1): Promise<{ headers: RateLimitHeaders }> {
  try {
    const res = await limiter.consume(key, points);
    return { headers: rateLimitHeaders(limiter.points, res.remainingPoints, msLeft(limiter, res), false) };
  } catch (err) {
    if (err instanceof RateLimiterRes) throw rateLimited(limiter.points, msLeft(limiter, err), `limit ${limiter.keyPrefix}`);
    throw err;
  }
}

/**
 * The rate-limit key of an address. IPv6 is keyed by its /64: one subscriber routinely holds a whole /64,
 * so per-address counting would hand an attacker 2^64 fresh budgets. Remembered for recent addresses: every
 * request pays for a rate-limit key, an address is parsed once.
 */
export const ipKey: (ip: string) => string = boundedMemo(4096, (ip: string) => ipKeyOf(ip));

function ipKeyOf(ip: string): string {
  const addr = parseIp(ip);
  if (!addr) return ip;
  if (addr.kind() === 'ipv4') return addr.toString();
  const parts = addr.toByteArray().slice(0, 8);
  const hex = [0, 2, 4, 6].map((i) => (((parts[i] ?? 0) << 8) | (parts[i + 1] ?? 0)).toString(16));
  return `${hex.join(':')}::/64`;
}

/** Requests per second per client IP, on every route. */
export class RequestLimiter {
  private readonly limiter: RateLimiterAbstract;
  constructor(state: SharedState, perSecond: number) {
    this.limiter = state.limiter({ keyPrefix: 'req', points: perSecond, durationSec: 1 });
  }
  consume(ip: string): Promise<{ headers: RateLimitHeaders }> {
    return limitOrThrow(this.limiter, ipKey(ip));
  }
}

/** The tighter per-IP budgets of the routes an attacker would hammer. */
export type LimitClass = 'signup' | 'forgot' | 'mfa';

/**
 * Per-IP requests per second on every route (floods), and tighter per-IP budgets for sign-up (mass
 * registration), password forgot/reset (mail bombing, token guessing) and MFA (code guessing).
 */
export class RouteLimits {
  private readonly perSecond: RequestLimiter;
  private readonly classes: Record<LimitClass, RateLimiterAbstract>;
  /** risk reports per resource-server client per minute: a compromised client cannot flood the risk engine */
  private readonly riskReports: RateLimiterAbstract;

  constructor(state: SharedState, cfg: { perSecond: number; loginPerIpPer15Min: number; riskReportsPerMinute: number }) {
    const per15 = cfg.loginPerIpPer15Min;
    this.perSecond = new RequestLimiter(state, cfg.perSecond);
    this.classes = {
      signup: state.limiter({ keyPrefix: 'signup:ip', points: Math.max(1, Math.floor(per15 / 5)), durationSec: 900 }),
      forgot: state.limiter({ keyPrefix: 'forgot:ip', points: Math.max(1, Math.floor(per15 / 5)), durationSec: 900 }),
      mfa: state.limiter({ keyPrefix: 'mfa:ip', points: per15, durationSec: 900 }),
    };
    this.riskReports = state.limiter({ keyPrefix: 'risk-report:client', points: cfg.riskReportsPerMinute, durationSec: 60 });
  }

  consume(ip: string): Promise<{ headers: RateLimitHeaders }> {
    return this.perSecond.consume(ip);
  }

  consumeClass(cls: LimitClass, ip: string): Promise<{ headers: RateLimitHeaders }> {
    return limitOrThrow(this.classes[cls], ipKey(ip));
  }

  consumeRiskReport(clientId: string): Promise<{ headers: RateLimitHeaders }> {
    return limitOrThrow(this.riskReports, clientId);
  }
}

export interface LoginGuardConfig {
  /** attempts (successful or not) per IP per 15 minutes: stops stuffing many accounts from one address */
  perIpPer15Min: number;
  /** attempts per (account, IP) since the last success before exponential backoff starts */
  failuresBeforeBackoff: number;
  /** failures per account per day (all IPs) before it is closed to addresses it never signed in from */
  accountFailuresPerDay: number;
  /** failed logins per IP per day (optional second, slower cap) */
  ipFailuresPerDay?: number;
  /** longest backoff, seconds (default 3600) */
  maxBackoffSec?: number;
  /** password-change attempts per user per 15 minutes, over all addresses (default 10) */
  changesPerUserPer15Min?: number;
}

export interface LoginKey {
  ip: string;
  /** the already-normalised email */
  account: string;
}

const DAY = 86_400;
/** under 2^31 ms: the in-memory store expires keys with setTimeout, which wraps longer delays to 1 ms */
const KNOWN_SEC = 20 * DAY;

export class LoginGuard {
  private readonly attempts: RateLimiterAbstract;
  private readonly ipFailures: RateLimiterAbstract | undefined;
  private readonly pairAttempts: RateLimiterAbstract;
  private readonly backoff: RateLimiterAbstract;
  private readonly accountFailures: RateLimiterAbstract;
  private readonly known: RateLimiterAbstract;
  private readonly epochs: RateLimiterAbstract;
  private readonly changes: RateLimiterAbstract;
  private readonly maxBackoffSec: number;

  constructor(state: SharedState, private readonly cfg: LoginGuardConfig) {
    if (cfg.failuresBeforeBackoff < 1 || cfg.perIpPer15Min < 1 || cfg.accountFailuresPerDay < 1) {
      throw new TypeError('LoginGuard: limits must be at least 1');
    }
    this.maxBackoffSec = cfg.maxBackoffSec ?? 3600;
    this.attempts = state.limiter({ keyPrefix: 'login:ip', points: cfg.perIpPer15Min, durationSec: 900 });
    this.ipFailures = cfg.ipFailuresPerDay
      ? state.limiter({ keyPrefix: 'login:ipfail', points: cfg.ipFailuresPerDay, durationSec: DAY })
      : undefined;
    this.pairAttempts = state.limiter({ keyPrefix: 'login:pair', points: 1_000_000_000, durationSec: DAY });
    this.backoff = state.limiter({ keyPrefix: 'login:backoff', points: 1, durationSec: this.maxBackoffSec });
    this.accountFailures = state.limiter({ keyPrefix: 'login:acctfail', points: cfg.accountFailuresPerDay, durationSec: DAY });
    this.known = state.limiter({ keyPrefix: 'login:known', points: 1, durationSec: KNOWN_SEC });
    // bumped by unlock(): per-(account, IP) keys embed it, so an unlock clears every IP's backoff at once
    this.epochs = state.limiter({ keyPrefix: 'login:epoch', points: 1_000_000_000, durationSec: 2 * DAY });
    this.changes = state.limiter({ keyPrefix: 'pwchange:user', points: cfg.changesPerUserPer15Min ?? 10, durationSec: 900 });
  }

  private async pairKey(ip: string, account: string): Promise<string> {
    const epoch = (await this.epochs.get(account))?.consumedPoints ?? 0;
    return `${epoch}/${ip} ${account}`;
  }

  /**
   * Call before verifying the password; counts the attempt. Throws TesseraError('rate_limited') with
   * Retry-After and RateLimit-* headers when any limit refuses it, the account's daily cap included.
   */
  async check(key: LoginKey): Promise<void> {
    await this.gate(key, false);
  }

  /**
   * The password step's gate: like `check`, except that the account's daily failure cap (tripped, from an
   * address the account never signed in from) is returned as `capped` instead of thrown. The caller
   * verifies the password anyway and throws `capped` unless it is right; a right one gets a second step,
   * never a session (AccountService.login), so tripping the cap cannot lock the owner out.
   */
  admit(key: LoginKey): Promise<{ capped: TesseraError | null }> {
    return this.gate(key, true);
  }

  private async gate(key: LoginKey, spareCapped: boolean): Promise<{ capped: TesseraError | null }> {
    const ip = ipKey(key.ip);
    const { account } = key;
    const [pk, acct, known, ipFail] = await Promise.all([
      this.pairKey(ip, account),
      this.accountFailures.get(account),
      this.known.get(`${ip} ${account}`),
      this.ipFailures?.get(ip) ?? Promise.resolve(null),
    ]);
    if (this.ipFailures && ipFail && ipFail.consumedPoints >= this.ipFailures.points) {
      throw rateLimited(this.ipFailures.points, msLeft(this.ipFailures, ipFail), 'ip daily failure cap');
    }
    const capped =
      acct && acct.consumedPoints >= this.cfg.accountFailuresPerDay && !known
        ? rateLimited(this.cfg.accountFailuresPerDay, msLeft(this.accountFailures, acct), 'account daily failure cap')
        : null;
    if (capped && !spareCapped) throw capped;
    // a spared attempt still counts against the address: the per-IP cap and the backoff hold as ever
    await limitOrThrow(this.attempts, ip);
    await this.backoffOrThrow(pk);
    return { capped };
  }

  private async backoffOrThrow(pk: string): Promise<void> {
    // Counted before the password is checked, so a concurrent burst cannot slip past the backoff: each
    // attempt gets its own number, and past the free ones only the first in each backoff window proceeds
    // (windows of 1 s, 2 s, 4 s … up to maxBackoffSec). Success resets the count.
    const n = (await this.pairAttempts.penalty(pk)).consumedPoints;
    const over = n - this.cfg.failuresBeforeBackoff;
    if (over <= 0) return;
    const windowSec = Math.min(2 ** Math.min(over - 1, 30), this.maxBackoffSec);
    try {
      await this.backoff.consume(pk, 1, { customDuration: windowSec });
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        // hammering during a backoff window doubles it (up to the cap) instead of waiting it out
        const ms = Math.max(windowSec * 1000, msLeft(this.backoff, err));
        await this.backoff.block(pk, Math.ceil(ms / 1000));
        throw rateLimited(this.cfg.failuresBeforeBackoff, ms, 'account+ip backoff');
      }
      throw err;
    }
  }

  /**
   * `POST /v1/password/change`: a stolen session must not become a password-guessing oracle. A per-user
   * budget (every address at once), then the login rules for (account, IP): the same backoff and daily cap.
   */
  async checkChange(userId: string, key: LoginKey): Promise<void> {
    await limitOrThrow(this.changes, userId);
    await this.check(key);
  }

  async recordFailure(key: LoginKey): Promise<void> {
    const ip = ipKey(key.ip);
    await Promise.all([this.accountFailures.penalty(key.account), this.ipFailures?.penalty(ip)]);
  }

  /** A correct password: the (account, IP) pair starts afresh and the address becomes known for 20 days. */
  async recordSuccess(key: LoginKey): Promise<void> {
    const ip = ipKey(key.ip);
    const pk = await this.pairKey(ip, key.account);
    await Promise.all([
      this.pairAttempts.delete(pk),
      this.backoff.delete(pk),
      this.known.set(`${ip} ${key.account}`, 1, KNOWN_SEC),
    ]);
  }

  /**
   * An attempt that failed on the server before its password was judged (the database unreachable): take
   * back what check() counted, so an outage never pushes users into backoff or the per-IP cap. Only the
   * service calls this, after a server error, so an attacker cannot earn refunds with wrong guesses.
   */
  async refund(key: LoginKey): Promise<void> {
    const ip = ipKey(key.ip);
    const pk = await this.pairKey(ip, key.account);
    await Promise.all([this.pairAttempts.reward(pk, 1), this.attempts.reward(ip, 1)]);
  }

  /** Administrator unlock: clears the account's daily cap and every (account, IP) backoff. */
  async unlock(account: string): Promise<void> {
    await Promise.all([this.epochs.penalty(account), this.accountFailures.delete(account)]);
  }

  /** A completed reset or second-factor sign-in proves the owner: the counters an attacker ran up go. */
  clear(account: string): Promise<void> {
    return this.unlock(account);
  }

  /** The owner approved this address by mail (core/login/approvals.ts): it passes the daily cap from now on. */
  async approve(key: LoginKey): Promise<void> {
    await this.known.set(`${ipKey(key.ip)} ${key.account}`, 1, KNOWN_SEC);
  }
}
