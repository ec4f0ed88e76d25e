import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Clock } from '../../lib/clock.js';
import { safeEqual, sha256, type SecretBox } from '../crypto.js';
import { TesseraError } from '../errors.js';
import { limitOrThrow } from '../limits.js';
import type { SharedState } from '../../state/types.js';
import type { Store, UserRow } from '../../store/ports/index.js';
import { isNumericCode, newNumericCode } from './codes.js';
import { OTP_TTL_MS, type OtpDelivery } from './otp.js';
import type { SmsSender } from './sms.js';

/** E.164: a plus, a country code that does not start with 0, at most 15 digits in all */
export const PHONE_E164 = /^\+[1-9]\d{6,14}$/;
/** guesses at one enrolment code; then a new code must be sent */
export const SMS_ENROL_MAX_ATTEMPTS = 5;
/** every SMS to an account (enrolment and sign-in codes) */
export const SMS_SENDS_PER_ACCOUNT_PER_HOUR = 5;
/** every SMS to one number, whichever accounts asked */
export const SMS_SENDS_PER_NUMBER_PER_DAY = 10;

/** Accepts the number as people type it (`+44 7700 900-123`, `(…)`, dots) and returns it in E.164, or null. */
export function normalizePhone(input: string): string | null {
  const s = input.trim().replace(/[\s().-]/g, '');
  return PHONE_E164.test(s) ? s : null;
}

/** `+44••••••123`: enough for the owner to recognise, too little to call; the length is hidden too. */
export function maskPhone(e164: string): string {
  return `${e164.slice(0, 3)}••••••${e164.slice(-3)}`;
}

export type SmsCheck = { ok: true; phoneMasked: string } | { ok: false; reason: 'not_started' | 'too_many_attempts' | 'code_expired' | 'wrong_code' | 'replayed_code' };

/**
 * The phone of the SMS second factor. The number is personal data: sealed at rest with the KEK (AAD = user
 * id, so a sealed number copied into another row does not open); only a masked form is stored readable.
 * Every SMS spends two budgets: per account, and per destination number across accounts, against SMS
 * pumping (toll fraud: sign-ups that send codes to premium numbers the attacker is paid for).
 */
export class PhoneService {
  private readonly perAccount: RateLimiterAbstract;
  private readonly perNumber: RateLimiterAbstract;

  constructor(
    private readonly store: Store,
    state: SharedState,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly sender: SmsSender,
  ) {
    this.perAccount = state.limiter({ keyPrefix: 'sms:account', points: SMS_SENDS_PER_ACCOUNT_PER_HOUR, durationSec: 3600 });
    this.perNumber = state.limiter({ keyPrefix: 'sms:number', points: SMS_SENDS_PER_NUMBER_PER_DAY, durationSec: 86_400 });
  }

  async isEnrolled(userId: string): Promise<boolean> {
    return (await this.store.getSmsPhone(userId))?.confirmedAt != null;
  }

  /** the confirmed phone's display form, or null */
  async maskedPhone(userId: string): Promise<string | null> {
    const row = await this.store.getSmsPhone(userId);
    return row?.confirmedAt != null ? row.phoneMasked : null;
  }

  /** Sends a code to a new number; a confirmed phone must be removed first, so it is never silently replaced. */
  async startEnrolment(user: UserRow, input: string): Promise<{ phoneMasked: string; expiresInSec: number }> {
    const phone = normalizePhone(input);
    if (phone === null) throw new TesseraError('invalid_request', { detail: 'Give the phone number in international format, e.g. +447700900123.' });
    if (await this.isEnrolled(user.id)) throw new TesseraError('conflict', { detail: 'A phone is already set up; remove it first.' });
    await this.spend(user.id, phone);
    const code = newNumericCode();
    const now = this.clock.now();
    const phoneMasked = maskPhone(phone);
    const written = await this.store.putSmsPhone({
      userId: user.id,
      phoneSealed: this.box.seal(phone, user.id),
      phoneMasked,
      confirmedAt: null,
      codeHash: this.enrolHash(user.id, now, code),
      codeExpiresAt: now + OTP_TTL_MS,
      attempts: 0,
      createdAt: now,
    });
    if (!written) throw new TesseraError('conflict', { detail: 'A phone is already set up; remove it first.' });
    await this.sender.send({ to: phone, text: smsText(code, OTP_TTL_MS / 60_000, 'to confirm this phone number') });
    return { phoneMasked, expiresInSec: OTP_TTL_MS / 1000 };
  }

  /** The code proves the number reaches this user; it is single-use, and only 5 guesses are allowed per code. */
  async confirm(user: UserRow, code: string): Promise<SmsCheck> {
    const row = await this.store.getSmsPhone(user.id);
    if (!row || row.confirmedAt !== null || row.codeHash === null) return { ok: false, reason: 'not_started' };
    // counted before the check, so a concurrent burst of guesses cannot exceed the budget
    if ((await this.store.incrementSmsAttempts(user.id)) > SMS_ENROL_MAX_ATTEMPTS) return { ok: false, reason: 'too_many_attempts' };
    const now = this.clock.now();
    if ((row.codeExpiresAt ?? 0) <= now) return { ok: false, reason: 'code_expired' };
    if (!isNumericCode(code) || !safeEqual(row.codeHash, this.enrolHash(user.id, row.createdAt, code))) return { ok: false, reason: 'wrong_code' };
    if (!(await this.store.confirmSmsPhone(user.id, row.codeHash, now))) return { ok: false, reason: 'replayed_code' };
    return { ok: true, phoneMasked: row.phoneMasked };
  }

  remove(userId: string): Promise<boolean> {
    return this.store.deleteSmsPhone(userId);
  }

  /** For a sign-in code: the confirmed phone, its budgets spent; null when the account has none. */
  async delivery(user: UserRow): Promise<OtpDelivery | null> {
    const row = await this.store.getSmsPhone(user.id);
    if (row?.confirmedAt == null) return null;
    const phone = this.box.open(row.phoneSealed, user.id);
    await this.spend(user.id, phone);
    return (code, minutes) => this.sender.send({ to: phone, text: smsText(code, minutes, 'to sign in') });
  }

  private async spend(userId: string, phone: string): Promise<void> {
    await limitOrThrow(this.perAccount, userId);
    // keyed by a hash: shared state (Redis) holds no phone numbers
    await limitOrThrow(this.perNumber, sha256(`sms-number:${phone}`));
  }

  /** salted with the user and the enrolment's start, so an old enrolment's hash never matches a new one */
  private enrolHash(userId: string, createdAt: number, code: string): string {
    return sha256(`sms-enrol:${userId}:${createdAt}:${code}`);
  }
}

/** The code leads, so phones show it in the notification; no link, nothing else worth phishing. */
function smsText(code: string, minutes: number, purpose: string): string {
  return `${code} is your Tessera code ${purpose}. It expires in ${minutes} min. Never share it: Tessera staff will never ask for it.`;
}
