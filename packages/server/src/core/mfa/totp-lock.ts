import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Clock } from '../../lib/clock.js';
import type { SharedState } from '../../state/types.js';
import type { UserRow } from '../../store/ports/index.js';
import { TesseraError } from '../errors.js';
import type { EventLog } from '../events.js';
import type { Mailer } from '../../mail/types.js';
import { totpLockedMail } from '../notices/templates.js';

const DAY = 86_400;
/** the lock lasts until a recovery code or a reset lifts it (20 days: the in-memory store's longest timer) */
const LOCK_SEC = 20 * DAY;

export interface TotpLockDeps {
  state: Pick<SharedState, 'limiter'>;
  events: EventLog;
  mailer: Mailer;
  clock: Clock;
  issuer: string;
  onMailError: (err: unknown) => void;
}

const locked = () =>
  new TesseraError('factor_locked', {
    detail: 'Authenticator codes are locked on this account after too many wrong codes; use a recovery code or reset your password.',
    reason: 'totp locked',
  });

/**
 * TOTP guessing, locked: the per-token and per-15-minute budgets (mfa-token.ts) still allow about a
 * thousand guesses a day at a 6-digit code; this caps wrong codes per account per day over every mfa_token
 * and then refuses TOTP until a recovery code or a password reset, mailing the owner. Each attempt is
 * reserved before the code is checked (an atomic counter in shared state), so a concurrent burst cannot
 * overrun the budget; a right code gives its reservation back.
 */
export class TotpLock {
  private readonly attempts: RateLimiterAbstract;
  private readonly lock: RateLimiterAbstract;

  constructor(
    private readonly d: TotpLockDeps,
    failuresPerDay: number,
  ) {
    this.attempts = d.state.limiter({ keyPrefix: 'mfa:totpfail', points: failuresPerDay, durationSec: DAY });
    this.lock = d.state.limiter({ keyPrefix: 'mfa:totplock', points: 1, durationSec: LOCK_SEC });
  }

  /** Before a TOTP code is checked: refused when locked or when this attempt would pass the budget. */
  async reserve(user: UserRow, ip: string): Promise<{ last: boolean }> {
    if (((await this.lock.get(user.id))?.consumedPoints ?? 0) > 0) throw locked();
    try {
      const res = await this.attempts.consume(user.id);
      return { last: res.remainingPoints === 0 };
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      await this.engage(user, ip);
      throw locked();
    }
  }

  /** After the check: a right code returns its reservation; the budget's last wrong one engages the lock. */
  async settle(user: UserRow, ip: string, ok: boolean, last: boolean): Promise<void> {
    if (ok) await this.attempts.reward(user.id, 1);
    else if (last) await this.engage(user, ip);
  }

  /** A recovery code or a password reset proves the owner. */
  async unlock(userId: string): Promise<void> {
    await Promise.all([this.lock.delete(userId), this.attempts.delete(userId)]);
  }

  /** Sets the lock; only the call that set it records the event and mails the owner. */
  private async engage(user: UserRow, ip: string): Promise<void> {
    const first = await this.lock.consume(user.id).then(
      () => true,
      (err: unknown) => (err instanceof RateLimiterRes ? false : Promise.reject(err instanceof Error ? err : new Error(String(err)))),
    );
    if (!first) return;
    await this.d.events.record({ type: 'totp_locked', userId: user.id, ip });
    const mail = totpLockedMail({ at: this.d.clock.now(), resetLink: `${this.d.issuer}/forgot-password` });
    await this.d.mailer.send({ to: user.email, ...mail }).catch(this.d.onMailError);
  }
}
