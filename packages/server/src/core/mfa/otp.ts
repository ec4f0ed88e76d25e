import { safeEqual, sha256 } from '../crypto.js';
import { isNumericCode } from './codes.js';

/** Sign-in codes sent out of band; both live on the mfa_token's row, one at a time. */
export type OtpMethod = 'email_otp' | 'sms_otp';

/** delivers one code to a destination already chosen (and whose send budgets are already spent) */
export type OtpDelivery = (code: string, expiresInMinutes: number) => Promise<void>;

/** a sent code is valid this long (and never past its mfa_token) */
export const OTP_TTL_MS = 10 * 60_000;

/** salted with the method and token id, so one hash cannot be matched against another token's row or channel */
function otpHash(method: OtpMethod, tokenId: string, code: string): string {
  return sha256(`${method.replace('_', '-')}:${tokenId}:${code}`);
}

/** The stored form of a sent code (`method:sentAt:hash`); a new one overwrites the previous code. */
export function otpChallenge(method: OtpMethod, tokenId: string, code: string, sentAt: number): string {
  return `${method}:${sentAt}:${otpHash(method, tokenId, code)}`;
}

/** null when `code` matches the code stored for this method and is still fresh, else the internal reason */
export function checkOtp(stored: string | null, method: OtpMethod, tokenId: string, code: string, now: number): string | null {
  const m = /^(email_otp|sms_otp):(\d+):([A-Za-z0-9_-]+)$/.exec(stored ?? '');
  // An e-mailed code cannot be redeemed as an SMS one or the other way round.
  if (!m || m[1] !== method) return `no_${method}_sent`;
  if (Number(m[2]) + OTP_TTL_MS <= now) return `${method}_expired`;
  if (!isNumericCode(code) || !safeEqual(m[3], otpHash(method, tokenId, code))) return 'wrong_code';
  return null;
}
