import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { AccountService, SecondFactor } from '../accounts.js';
import type { Clock } from '../../lib/clock.js';
import { newOpaqueToken, parseOpaqueToken, safeEqual, sha256 } from '../crypto.js';
import { TesseraError } from '../errors.js';
import type { EventLog } from '../events.js';
import { limitOrThrow } from '../limits.js';
import type { IssuedTokens, RequestContext } from '../sessions.js';
import type { Mailer } from '../../mail/types.js';
import { emailOtpMail } from '../../mail/templates.js';
import type { SharedState } from '../../state/types.js';
import type { MfaChallengeRow, Store, UserRow } from '../../store/ports/index.js';
import { newNumericCode } from './codes.js';
import { checkOtp, otpChallenge, OTP_TTL_MS, type OtpDelivery, type OtpMethod } from './otp.js';
import type { PhoneService } from './phone.js';
import type { RecoveryCodeService } from './recovery.js';
import type { TotpService } from './totp.js';
import { keyAmr, type PasskeyCheck, type WebauthnService } from './webauthn.js';

export type MfaMethod = 'totp' | 'webauthn' | 'sms_otp' | 'recovery_code' | 'email_otp';
export type CodeMethod = Exclude<MfaMethod, 'webauthn'>;
type Transport = 'bearer' | 'cookie';

export const MFA_TOKEN_TTL_MS = 5 * 60_000;
/** guesses per mfa_token: the 5th wrong code kills it */
export const MFA_TOKEN_MAX_ATTEMPTS = 5;
/** second-factor attempts per account per 15 minutes, over all its mfa_tokens */
export const MFA_ACCOUNT_ATTEMPTS = 10;
export const EMAIL_OTP_TTL_MS = OTP_TTL_MS;
export const EMAIL_OTP_SENDS_PER_TOKEN = 3;
export const EMAIL_OTP_SENDS_PER_HOUR = 5;
/** per mfa_token; the per-account and per-number SMS budgets are in phone.ts */
export const SMS_OTP_SENDS_PER_TOKEN = 3;

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
}

export interface MfaLoginDeps {
  store: Store;
  state: SharedState;
  clock: Clock;
  events: EventLog;
  accounts: AccountService;
  mailer: Mailer;
  totp: TotpService;
  recovery: RecoveryCodeService;
  webauthn: WebauthnService;
  phone: PhoneService;
}

/** An out-of-band code channel: what differs between mail and SMS. */
interface OtpChannel {
  method: OtpMethod;
  enabled(): boolean;
  perToken: RateLimiterAbstract;
  /** the destination, its own budgets spent; null when the account has none */
  delivery(user: UserRow): Promise<OtpDelivery | null>;
}

/** The password step's request, stored with the mfa_token: the second step must come from the same client. */
interface Binding {
  ip: string;
  user_agent: string | null;
  transport: Transport;
  dpop_jkt: string | null;
}

export interface MfaLoginResult {
  user: UserRow;
  tokens: IssuedTokens;
  transport: Transport;
}

interface OpenToken {
  row: MfaChallengeRow;
  user: UserRow;
  binding: Binding;
}

/**
 * The second step of a sign-in. `challenge` (called by AccountService after a correct password) issues an
 * opaque single-use `mfa_token` (`id.secret`, only SHA-256(secret) stored) bound to that request's client;
 * the verify methods redeem it with a TOTP, recovery, e-mail or SMS code or a passkey, then start the session.
 * Brute force of a 6-digit code is bounded three ways: 5 attempts per token (counted before the check, so a
 * concurrent burst cannot exceed it), 10 per account per 15 minutes, and the per-IP `mfa` route limit.
 */
export class MfaLogin implements SecondFactor {
  readonly options: MfaOptions;
  private readonly accountLimiter: RateLimiterAbstract;
  private readonly email: OtpChannel;
  private readonly sms: OtpChannel;

  constructor(
    private readonly d: MfaLoginDeps,
    options: Partial<MfaOptions> = {},
  ) {
    this.options = { emailOtp: options.emailOtp ?? false, smsOtp: options.smsOtp ?? false };
    this.accountLimiter = d.state.limiter({ keyPrefix: 'mfa:account', points: MFA_ACCOUNT_ATTEMPTS, durationSec: 900 });
    const emailPerAccount = d.state.limiter({ keyPrefix: 'mfa-email:account', points: EMAIL_OTP_SENDS_PER_HOUR, durationSec: 3600 });
    this.email = {
      method: 'email_otp',
      enabled: () => this.options.emailOtp,
      perToken: d.state.limiter({ keyPrefix: 'mfa-email:token', points: EMAIL_OTP_SENDS_PER_TOKEN, durationSec: MFA_TOKEN_TTL_MS / 1000 }),
      delivery: async (user) => {
        await limitOrThrow(emailPerAccount, user.id);
        return (code, minutes) => d.mailer.send({ to: user.email, ...emailOtpMail({ code, expiresInMinutes: minutes }) });
      },
    };
    this.sms = {
      method: 'sms_otp',
      enabled: () => this.options.smsOtp,
      perToken: d.state.limiter({ keyPrefix: 'mfa-sms:token', points: SMS_OTP_SENDS_PER_TOKEN, durationSec: MFA_TOKEN_TTL_MS / 1000 }),
      delivery: (user) => d.phone.delivery(user),
    };
  }

  async methods(user: UserRow): Promise<MfaMethod[]> {
    const m: MfaMethod[] = [];
    if (await this.d.totp.isEnrolled(user.id)) m.push('totp');
    if ((await this.d.webauthn.list(user.id)).length > 0) m.push('webauthn');
    if (this.options.smsOtp && (await this.d.phone.isEnrolled(user.id))) m.push('sms_otp');
    // Recovery and mail codes are fallbacks for an enrolled factor, never a second factor on their own.
    if (m.length === 0) return m;
    if ((await this.d.recovery.count(user.id)) > 0) m.push('recovery_code');
    if (this.options.emailOtp) m.push('email_otp');
    return m;
  }

  async challenge(user: UserRow, ctx: RequestContext, transport: Transport): Promise<string> {
    const token = newOpaqueToken();
    const now = this.d.clock.now();
    const binding: Binding = { ip: ctx.ip, user_agent: ctx.userAgent, transport, dpop_jkt: ctx.dpopJkt ?? null };
    await this.d.store.insertMfaChallenge({
      id: token.id,
      userId: user.id,
      secretHash: token.hash,
      kind: 'mfa',
      challenge: null,
      failures: 0,
      createdAt: now,
      expiresAt: now + MFA_TOKEN_TTL_MS,
      usedAt: null,
      context: { ...binding },
    });
    return token.value;
  }

  /** `POST /v1/login/mfa`: redeem the token with a TOTP, recovery or e-mailed code. */
  async verifyCode(input: { mfaToken: string; method: CodeMethod; code: string; ctx: RequestContext }): Promise<MfaLoginResult> {
    const t = await this.open(input.mfaToken, input.ctx);
    for (const ch of [this.email, this.sms]) if (input.method === ch.method) this.requireEnabled(ch);
    const attempt = await this.spend(t);
    const failure = await this.check(t, input.method, input.code);
    if (failure) return this.fail(t, input.method, failure, attempt, input.ctx);
    if (input.method === 'recovery_code') {
      await this.d.events.record({ type: 'recovery_code_used', userId: t.user.id, ip: input.ctx.ip, data: { left: await this.d.recovery.count(t.user.id) } });
    }
    // RFC 8176: `sms` for a code sent to a phone, `otp` for the other one-time codes
    return this.complete(t, ['pwd', input.method === 'sms_otp' ? 'sms' : 'otp', 'mfa'], input.ctx);
  }

  /** `POST /v1/login/mfa/email`: mail a 6-digit code; a new code replaces the previous one. */
  sendEmailOtp(mfaToken: string, ctx: RequestContext): Promise<{ expiresInSec: number }> {
    return this.sendOtp(this.email, mfaToken, ctx);
  }

  /** `POST /v1/login/mfa/sms`: text a 6-digit code to the confirmed phone; a new code replaces the previous one. */
  sendSmsOtp(mfaToken: string, ctx: RequestContext): Promise<{ expiresInSec: number }> {
    return this.sendOtp(this.sms, mfaToken, ctx);
  }

  /**
   * Mail bombing and SMS pumping: a few codes per token, then the channel's per-account (and, for SMS,
   * per-number) budgets. The code is stored hashed on the token's row: it dies with the token, at 10 minutes at most.
   */
  private async sendOtp(ch: OtpChannel, mfaToken: string, ctx: RequestContext): Promise<{ expiresInSec: number }> {
    this.requireEnabled(ch);
    const t = await this.open(mfaToken, ctx);
    await limitOrThrow(ch.perToken, t.row.id);
    const deliver = await ch.delivery(t.user);
    if (!deliver) throw new TesseraError('invalid_request', { detail: 'No phone number is set up for this account.', reason: `${ch.method}: no destination` });
    const code = newNumericCode();
    const now = this.d.clock.now();
    await this.d.store.setMfaChallengeChallenge(t.row.id, otpChallenge(ch.method, t.row.id, code, now));
    const expiresAt = Math.min(t.row.expiresAt, now + OTP_TTL_MS);
    const expiresInSec = Math.ceil((expiresAt - now) / 1000);
    await deliver(code, Math.max(1, Math.ceil(expiresInSec / 60)));
    return { expiresInSec };
  }

  private requireEnabled(ch: OtpChannel): void {
    if (!ch.enabled()) throw new TesseraError('invalid_request', { detail: `Sign-in codes by ${ch.method === 'sms_otp' ? 'SMS' : 'e-mail'} are not enabled.` });
  }

  /** `POST /v1/login/webauthn/options`: with an mfa_token the user's keys as second factor, else passkey-only. */
  async passkeyOptions(mfaToken: string | undefined, ctx: RequestContext): Promise<PublicKeyCredentialRequestOptionsJSON> {
    if (mfaToken === undefined) return this.d.webauthn.authenticationOptions(null, {});
    const t = await this.open(mfaToken, ctx);
    return this.d.webauthn.authenticationOptions(t.user.id, { mfa: t.row.id });
  }

  /** `POST /v1/login/webauthn` with an mfa_token: a passkey or security key as the second factor. */
  async verifyPasskey(input: { mfaToken: string; response: unknown; ctx: RequestContext }): Promise<MfaLoginResult> {
    const t = await this.open(input.mfaToken, input.ctx);
    const attempt = await this.spend(t);
    const r = await this.d.webauthn.authenticate(input.response, { userId: t.user.id, context: (c) => c.mfa === t.row.id });
    if (!r.ok) return this.fail(t, 'webauthn', r.reason, attempt, input.ctx);
    return this.complete(t, ['pwd', keyAmr(r.deviceType), 'mfa'], input.ctx);
  }

  /** `POST /v1/login/webauthn` without an mfa_token: a discoverable passkey with user verification is the sign-in. */
  async passkeyOnly(input: { response: unknown; ctx: RequestContext; transport: Transport }): Promise<MfaLoginResult> {
    const r: PasskeyCheck = await this.d.webauthn.authenticate(input.response, { userId: null });
    const user = r.ok ? await this.d.store.getUserById(r.credential.userId) : undefined;
    if (!r.ok || !user) {
      const reason = r.ok ? 'user_gone' : r.reason;
      await this.d.events.record({ type: 'mfa_failed', userId: r.ok ? null : r.userId, ip: input.ctx.ip, data: { method: 'passkey', reason } });
      throw new TesseraError('invalid_credentials', { detail: 'The passkey sign-in failed; try again.', reason: `passkey: ${reason}` });
    }
    if (user.passwordResetRequired) throw new TesseraError('password_reset_required');
    await this.d.accounts.loginCheck?.(user, input.ctx);
    const tokens = await this.d.accounts.completeLogin(user, [keyAmr(r.deviceType), 'user'], input.ctx, input.transport);
    return { user, tokens, transport: input.transport };
  }

  /** The transport chosen at the password step; the second step cannot switch it. */
  async transportOf(mfaToken: string): Promise<Transport | undefined> {
    const parsed = parseOpaqueToken(mfaToken);
    const row = parsed ? await this.d.store.getMfaChallenge(parsed.id) : undefined;
    const tr = row?.kind === 'mfa' ? row.context.transport : undefined;
    return tr === 'cookie' || tr === 'bearer' ? tr : undefined;
  }

  private async open(value: string, ctx: RequestContext): Promise<OpenToken> {
    const parsed = parseOpaqueToken(value);
    const row = parsed ? await this.d.store.getMfaChallenge(parsed.id) : undefined;
    // Other challenge rows (WebAuthn ceremonies) share the table; only `mfa` rows are tokens.
    if (!parsed || !row || row.kind !== 'mfa' || !row.userId || !safeEqual(row.secretHash, sha256(parsed.secret))) {
      throw new TesseraError('invalid_mfa_token', { reason: 'unknown mfa_token' });
    }
    if (row.usedAt !== null) throw new TesseraError('invalid_mfa_token', { reason: 'mfa_token already used' });
    if (row.expiresAt <= this.d.clock.now()) throw new TesseraError('invalid_mfa_token', { reason: 'mfa_token expired' });
    if (row.failures >= MFA_TOKEN_MAX_ATTEMPTS) throw new TesseraError('invalid_mfa_token', { reason: 'mfa_token attempt budget spent' });
    const user = await this.d.store.getUserById(row.userId);
    if (!user) throw new TesseraError('invalid_mfa_token', { reason: 'user gone' });
    const binding = row.context as unknown as Binding;
    // A token lifted from the password step's response (a log, a proxy, a phishing page) is useless from
    // another client: same IP, user agent and DPoP key (or none) as the password step, or refused.
    if (binding.ip !== ctx.ip || binding.user_agent !== ctx.userAgent || binding.dpop_jkt !== (ctx.dpopJkt ?? null)) {
      await this.d.events.record({ type: 'mfa_failed', userId: user.id, ip: ctx.ip, data: { reason: 'client_mismatch' } });
      throw new TesseraError('invalid_mfa_token', { reason: 'mfa_token presented by another client' });
    }
    return { row, user, binding };
  }

  /** Reserve one attempt before checking anything, so concurrent guesses cannot overrun either budget. */
  private async spend(t: OpenToken): Promise<number> {
    await limitOrThrow(this.accountLimiter, t.user.id);
    const n = await this.d.store.incrementMfaFailures(t.row.id);
    if (n > MFA_TOKEN_MAX_ATTEMPTS) throw new TesseraError('invalid_mfa_token', { reason: 'mfa_token attempt budget spent' });
    return n;
  }

  /** null when the code is right (and now used up), else the internal reason */
  private async check(t: OpenToken, method: CodeMethod, code: string): Promise<string | null> {
    if (method === 'totp') {
      const r = await this.d.totp.verify(t.user, code);
      return r.ok ? null : r.reason;
    }
    if (method === 'recovery_code') return (await this.d.recovery.consume(t.user.id, code)) ? null : 'wrong_recovery_code';
    return checkOtp(t.row.challenge, method, t.row.id, code, this.d.clock.now());
  }

  private async fail(t: OpenToken, method: MfaMethod, reason: string, attempt: number, ctx: RequestContext): Promise<never> {
    const left = Math.max(0, MFA_TOKEN_MAX_ATTEMPTS - attempt);
    await this.d.events.record({ type: 'mfa_failed', userId: t.user.id, ip: ctx.ip, data: { method, reason, attempts_left: left } });
    throw new TesseraError('invalid_code', {
      detail: left > 0 ? `Wrong, expired or already used code; ${left} attempt(s) left.` : 'Wrong code; sign in again.',
      reason: `${method}: ${reason}`,
    });
  }

  private async complete(t: OpenToken, amr: string[], ctx: RequestContext): Promise<MfaLoginResult> {
    // consume once: of two racing correct answers only one starts a session
    const consumed = await this.d.store.consumeMfaChallenge(t.row.id, this.d.clock.now());
    if (!consumed) throw new TesseraError('invalid_mfa_token', { reason: 'mfa_token consumed concurrently' });
    await this.accountLimiter.reward(t.user.id, 1).catch(() => undefined);
    const tokens = await this.d.accounts.completeLogin(t.user, amr, ctx, t.binding.transport);
    return { user: t.user, tokens, transport: t.binding.transport };
  }
}
