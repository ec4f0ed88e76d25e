import { OTP_TTL_MS } from './otp.js';

/** Lifetimes and attempt budgets of the second sign-in step. */
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
