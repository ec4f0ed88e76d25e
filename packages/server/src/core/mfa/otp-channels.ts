import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Clock } from '../../lib/clock.js';
import { TesseraError } from '../errors.js';
import { limitOrThrow } from '../limits.js';
import type { Mailer } from '../../mail/types.js';
import { emailOtpMail } from '../notices/templates.js';
import type { RequestContext } from '../sessions/types.js';
import type { SharedState } from '../../state/types.js';
import type { UserRow } from '../../store/ports/index.js';
import { EMAIL_OTP_SENDS_PER_HOUR, EMAIL_OTP_SENDS_PER_TOKEN, MFA_TOKEN_TTL_MS, SMS_OTP_SENDS_PER_TOKEN } from './budgets.js';
import { newNumericCode } from './codes.js';
import type { MfaTokens } from './mfa-token.js';
import { otpChallenge, OTP_TTL_MS, type OtpDelivery, type OtpMethod } from './otp.js';
import type { PhoneService } from './phone.js';

/** An out-of-band code channel: what differs between mail and SMS. */
export interface OtpChannel {
  method: OtpMethod;
  enabled(): boolean;
  perToken: RateLimiterAbstract;
  /** the destination, its own budgets spent; null when the account has none */
  delivery(user: UserRow): Promise<OtpDelivery | null>;
}

export function emailChannel(state: Pick<SharedState, 'limiter'>, mailer: Mailer, enabled: () => boolean): OtpChannel {
  const perAccount = state.limiter({ keyPrefix: 'mfa-email:account', points: EMAIL_OTP_SENDS_PER_HOUR, durationSec: 3600 });
  return {
    method: 'email_otp',
    enabled,
    perToken: state.limiter({ keyPrefix: 'mfa-email:token', points: EMAIL_OTP_SENDS_PER_TOKEN, durationSec: MFA_TOKEN_TTL_MS / 1000 }),
    delivery: async (user) => {
      await limitOrThrow(perAccount, user.id);
      return (code, minutes) => mailer.send({ to: user.email, ...emailOtpMail({ code, expiresInMinutes: minutes }) });
    },
  };
}

export function smsChannel(state: Pick<SharedState, 'limiter'>, phone: Pick<PhoneService, 'delivery'>, enabled: () => boolean): OtpChannel {
  return {
    method: 'sms_otp',
    enabled,
    perToken: state.limiter({ keyPrefix: 'mfa-sms:token', points: SMS_OTP_SENDS_PER_TOKEN, durationSec: MFA_TOKEN_TTL_MS / 1000 }),
    delivery: (user) => phone.delivery(user),
  };
}

export function requireEnabled(ch: OtpChannel): void {
  if (!ch.enabled()) throw new TesseraError('invalid_request', { detail: `Sign-in codes by ${ch.method === 'sms_otp' ? 'SMS' : 'e-mail'} are not enabled.` });
}

/**
 * Mail bombing and SMS pumping: a few codes per token, then the channel's per-account (and, for SMS,
 * per-number) budgets. The code is stored hashed on the token's row: it dies with the token, at 10 minutes at most.
 */
export async function sendOtp(ch: OtpChannel, tokens: MfaTokens, clock: Clock, mfaToken: string, ctx: RequestContext): Promise<{ expiresInSec: number }> {
  requireEnabled(ch);
  const t = await tokens.open(mfaToken, ctx);
  await limitOrThrow(ch.perToken, t.row.id);
  const deliver = await ch.delivery(t.user);
  if (!deliver) throw new TesseraError('invalid_request', { detail: 'No phone number is set up for this account.', reason: `${ch.method}: no destination` });
  const code = newNumericCode();
  const now = clock.now();
  await tokens.setCode(t, otpChallenge(ch.method, t.row.id, code, now));
  const expiresAt = Math.min(t.row.expiresAt, now + OTP_TTL_MS);
  const expiresInSec = Math.ceil((expiresAt - now) / 1000);
  await deliver(code, Math.max(1, Math.ceil(expiresInSec / 60)));
  return { expiresInSec };
}
