import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { TesseraError } from '../errors.js';
import type { LoginCompletion } from '../login/complete.js';
import type { AttemptGuard, LoginCheck, SecondFactor } from '../login/hooks.js';
import type { Mailer } from '../../mail/types.js';
import type { IssuedTokens, RequestContext, Transport } from '../sessions/types.js';
import type { PrincipalStore, UserRow } from '../../store/ports/index.js';
import { MfaTokens, type MfaTokenDeps, type OpenToken } from './mfa-token.js';
import { checkOtp } from './otp.js';
import { emailChannel, requireEnabled, sendOtp, smsChannel, type OtpChannel } from './otp-channels.js';
import type { PhoneService } from './phone.js';
import type { RecoveryCodeService } from './recovery.js';
import type { TotpLock } from './totp-lock.js';
import type { TotpService } from './totp.js';
import { keyAmr, type WebauthnService } from './webauthn.js';

export {
  EMAIL_OTP_SENDS_PER_HOUR,
  EMAIL_OTP_SENDS_PER_TOKEN,
  EMAIL_OTP_TTL_MS,
  MFA_ACCOUNT_ATTEMPTS,
  MFA_TOKEN_MAX_ATTEMPTS,
  MFA_TOKEN_TTL_MS,
  SMS_OTP_SENDS_PER_TOKEN,
} from './budgets.js';

export type MfaMethod = 'totp' | 'webauthn' | 'sms_otp' | 'recovery_code' | 'email_otp';
export type CodeMethod = Exclude<MfaMethod, 'webauthn'>;

export interface MfaOptions {
  /**
   * Offer a code mailed to the account's address as a fallback second factor. Off by default: whoever
   * controls the mailbox can already reset the password, so mail as a "second" factor adds little.
   */
  emailOtp: boolean;
  /**
   * Offer codes by SMS to a confirmed phone, as a second factor of its own. Off by default: SMS can be
   * intercepted or redirected by SIM swap (NIST SP 800-63B calls it "restricted"), and each one costs money.
   */
  smsOtp: boolean;
  /** wrong TOTP codes per account per day (over every mfa_token) before TOTP is locked (totp-lock.ts) */
  totpFailuresPerDay: number;
}

/** the mfa_token's own deps (challenges, users, state, events, clock), and what the second step needs */
export interface MfaLoginDeps extends MfaTokenDeps {
  mailer: Mailer;
  totp: TotpService;
  /** built by createMfa with `options.totpFailuresPerDay` */
  totpLock: TotpLock;
  recovery: RecoveryCodeService;
  webauthn: WebauthnService;
  phone: PhoneService;
  /** the user's factors in one read (the same summary `GET /v1/me` shows) */
  counts: Pick<PrincipalStore, 'getMfaCounts'>;
  /** the risk engine's verdict, before a passkey-only sign-in gets a session */
  loginCheck: LoginCheck;
  completion: LoginCompletion;
  /** a second-factor sign-in proves the owner: it clears the password failure counters (core/limits.ts) */
  guard: Pick<AttemptGuard, 'clear' | 'recordSuccess'>;
}

export interface MfaLoginResult {
  user: UserRow;
  tokens: IssuedTokens;
  transport: Transport;
}

/**
 * The second step of a sign-in. `challenge` (called by AccountService after a correct password) issues an
 * opaque single-use `mfa_token` bound to that request's client (mfa-token.ts); the verify methods redeem it
 * with a TOTP, recovery, e-mail or SMS code or a passkey, then start the session. Brute force of a 6-digit
 * code is bounded three ways: 5 attempts per token (counted before the check, so a concurrent burst cannot
 * exceed it), 10 per account per 15 minutes, and the per-IP `mfa` route limit.
 */
export class MfaLogin implements SecondFactor {
  readonly options: MfaOptions;
  private readonly tokens: MfaTokens;
  private readonly email: OtpChannel;
  private readonly sms: OtpChannel;

  constructor(
    private readonly d: MfaLoginDeps,
    options: Partial<MfaOptions> = {},
  ) {
    this.options = { emailOtp: options.emailOtp ?? false, smsOtp: options.smsOtp ?? false, totpFailuresPerDay: options.totpFailuresPerDay ?? 10 };
    this.tokens = new MfaTokens({ challenges: d.challenges, users: d.users, state: d.state, events: d.events, clock: d.clock });
    this.email = emailChannel(d.state, d.mailer, () => this.options.emailOtp);
    this.sms = smsChannel(d.state, d.phone, () => this.options.smsOtp);
  }

  async methods(user: UserRow): Promise<MfaMethod[]> {
    // one read of every factor (confirmed TOTP, passkeys, confirmed phone, unused recovery codes)
    const c = await this.d.counts.getMfaCounts(user.id);
    const m: MfaMethod[] = [];
    if (c.totp) m.push('totp');
    if (c.passkeys > 0) m.push('webauthn');
    if (this.options.smsOtp && c.sms !== null) m.push('sms_otp');
    // Recovery and mail codes are fallbacks for an enrolled factor, never a second factor on their own.
    if (m.length === 0) return m;
    if (c.recoveryCodesLeft > 0) m.push('recovery_code');
    if (this.options.emailOtp) m.push('email_otp');
    return m;
  }

  challenge(user: UserRow, ctx: RequestContext, transport: Transport): Promise<string> {
    return this.tokens.issue(user, ctx, transport);
  }

  /** `POST /v1/login/mfa`: redeem the token with a TOTP, recovery or e-mailed code. */
  async verifyCode(input: { mfaToken: string; method: CodeMethod; code: string; ctx: RequestContext }): Promise<MfaLoginResult> {
    // a lifted, spent or expired token, or one presented by another client
    const t = await this.tokens.open(input.mfaToken, input.ctx);
    // a switched-off channel
    for (const ch of [this.email, this.sms]) if (input.method === ch.method) requireEnabled(ch);
    // brute force: the attempt is reserved before the code is checked
    const attempt = await this.tokens.spend(t);
    const failure = await this.check(t, input.method, input.code, input.ctx);
    if (failure) return this.tokens.fail(t, input.method, failure, attempt, input.ctx);
    if (input.method === 'recovery_code') {
      // the owner, with a recovery code: TOTP locked by guessing works again
      await this.d.totpLock.unlock(t.user.id);
      await this.d.events.record({ type: 'recovery_code_used', userId: t.user.id, ip: input.ctx.ip, data: { left: await this.d.recovery.count(t.user.id) } });
    }
    // RFC 8176: `sms` for a code sent to a phone, `otp` for the other one-time codes
    return this.complete(t, ['pwd', input.method === 'sms_otp' ? 'sms' : 'otp', 'mfa'], input.ctx, input.method);
  }

  /** `POST /v1/login/mfa/email`: mail a 6-digit code; a new code replaces the previous one. */
  sendEmailOtp(mfaToken: string, ctx: RequestContext): Promise<{ expiresInSec: number }> {
    return sendOtp(this.email, this.tokens, this.d.clock, mfaToken, ctx);
  }

  /** `POST /v1/login/mfa/sms`: text a 6-digit code to the confirmed phone; a new code replaces the previous one. */
  sendSmsOtp(mfaToken: string, ctx: RequestContext): Promise<{ expiresInSec: number }> {
    return sendOtp(this.sms, this.tokens, this.d.clock, mfaToken, ctx);
  }

  /** `POST /v1/login/webauthn/options`: with an mfa_token the user's keys as second factor, else passkey-only. */
  async passkeyOptions(mfaToken: string | undefined, ctx: RequestContext): Promise<PublicKeyCredentialRequestOptionsJSON> {
    if (mfaToken === undefined) return this.d.webauthn.authenticationOptions(null, {});
    const t = await this.tokens.open(mfaToken, ctx);
    return this.d.webauthn.authenticationOptions(t.user.id, { mfa: t.row.id });
  }

  /** `POST /v1/login/webauthn` with an mfa_token: a passkey or security key as the second factor. */
  async verifyPasskey(input: { mfaToken: string; response: unknown; ctx: RequestContext }): Promise<MfaLoginResult> {
    // a lifted, spent or expired token, or one presented by another client
    const t = await this.tokens.open(input.mfaToken, input.ctx);
    // brute force: the attempt is reserved before the assertion is checked
    const attempt = await this.tokens.spend(t);
    // an assertion of another user's key, or one made for another ceremony
    const r = await this.d.webauthn.authenticate(input.response, { userId: t.user.id, context: (c) => c.mfa === t.row.id });
    if (!r.ok) return this.tokens.fail(t, 'webauthn', r.reason, attempt, input.ctx);
    return this.complete(t, ['pwd', keyAmr(r.deviceType), 'mfa'], input.ctx, 'webauthn');
  }

  /** `POST /v1/login/webauthn` without an mfa_token: a discoverable passkey with user verification is the sign-in. */
  async passkeyOnly(input: { response: unknown; ctx: RequestContext; transport: Transport }): Promise<MfaLoginResult> {
    // a forged, cloned or replayed assertion, or the key of a deleted account
    const r = await this.d.webauthn.authenticate(input.response, { userId: null });
    const user = r.ok ? await this.d.users.getUserById(r.credential.userId) : undefined;
    if (!r.ok || !user) {
      const reason = r.ok ? 'user_gone' : r.reason;
      await this.d.events.record({ type: 'mfa_failed', userId: r.ok ? null : r.userId, ip: input.ctx.ip, data: { method: 'passkey', reason } });
      throw new TesseraError('invalid_credentials', { detail: 'The passkey sign-in failed; try again.', reason: `passkey: ${reason}` });
    }
    // an account the risk engine has locked until its password is reset
    if (user.passwordResetRequired) throw new TesseraError('password_reset_required');
    // a sign-in from an impossible place or a new device (risk engine)
    await this.d.loginCheck(user, input.ctx);
    const tokens = await this.d.completion.complete(user, [keyAmr(r.deviceType), 'user'], input.ctx, input.transport);
    return { user, tokens, transport: input.transport };
  }

  /** A completed password reset lifts the TOTP lock (AccountService.resetPassword). */
  unlockFactors(userId: string): Promise<void> {
    return this.d.totpLock.unlock(userId);
  }

  /** The transport chosen at the password step; the second step cannot switch it. */
  transportOf(mfaToken: string): Promise<Transport | undefined> {
    return this.tokens.transportOf(mfaToken);
  }

  /** null when the code is right (and now used up), else the internal reason */
  private async check(t: OpenToken, method: CodeMethod, code: string, ctx: RequestContext): Promise<string | null> {
    if (method === 'totp') {
      // TOTP guessing: the attempt is reserved against the account's daily budget before the check
      const { last } = await this.d.totpLock.reserve(t.user, ctx.ip);
      const r = await this.d.totp.verify(t.user, code);
      await this.d.totpLock.settle(t.user, ctx.ip, r.ok, last);
      return r.ok ? null : r.reason;
    }
    if (method === 'recovery_code') return (await this.d.recovery.consume(t.user.id, code)) ? null : 'wrong_recovery_code';
    return checkOtp(t.row.challenge, method, t.row.id, code, this.d.clock.now());
  }

  /** two racing correct answers: the token is consumed once, and only that one starts a session */
  private async complete(t: OpenToken, amr: string[], ctx: RequestContext, method: string): Promise<MfaLoginResult> {
    await this.tokens.consume(t);
    // lockout as denial of service: the owner, past the daily failure cap, is let through from now on
    await this.d.guard.clear(t.user.email);
    await this.d.guard.recordSuccess({ ip: ctx.ip, account: t.user.email });
    const tokens = await this.d.completion.complete(t.user, amr, ctx, t.binding.transport, method);
    return { user: t.user, tokens, transport: t.binding.transport };
  }
}
