/**
 * The checks every sign-in runs, as the interfaces the sign-in services take (required constructor
 * arguments, so a service cannot exist without them).
 */
import type { RequestContext, Transport } from '../sessions/types.js';
import type { UserRow } from '../../store/ports/index.js';

/** Brute-force policy (core/limits.ts LoginGuard): counts every attempt before the password is checked. */
export interface AttemptGuard {
  check(key: { ip: string; account: string }): Promise<void>;
  /** a password change's check of the current password: a per-user budget, then `check` */
  checkChange(userId: string, key: { ip: string; account: string }): Promise<void>;
  recordFailure(key: { ip: string; account: string }): Promise<void>;
  recordSuccess(key: { ip: string; account: string }): Promise<void>;
  /** gives back what check() counted, for an attempt that ended in a server error before any verdict */
  refund(key: { ip: string; account: string }): Promise<void>;
  /**
   * `check`, except that a tripped per-account daily cap is returned (the refusal to throw unless the
   * password is right) rather than thrown
   */
  admit(key: { ip: string; account: string }): Promise<{ capped: Error | null }>;
  /** a completed reset or second-factor sign-in: the account's failure counters are cleared */
  clear(account: string): Promise<void>;
  /** the owner approved this address by mail: it passes the daily cap from now on */
  approve(key: { ip: string; account: string }): Promise<void>;
}

/**
 * Runs after a first factor is verified, before any session exists: refuses the sign-in by throwing (the
 * risk engine's `onLogin`: impossible travel, a new device).
 */
export type LoginCheck = (user: UserRow, ctx: RequestContext) => Promise<void>;

/** Decides whether a password-verified user must pass a second factor (core/mfa/login.ts MfaLogin). */
export interface SecondFactor {
  methods(user: UserRow): Promise<string[]>;
  challenge(user: UserRow, ctx: RequestContext, transport: Transport): Promise<string>;
  /** a completed password reset: factors locked by guessing (TOTP) work again */
  unlockFactors(userId: string): Promise<void>;
}
