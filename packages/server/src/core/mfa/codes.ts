import { randomInt } from 'node:crypto';
import { sha256 } from '../crypto.js';

/** RFC 4648 base32 without the padding; lower case reads better and is normalised on input. */
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

export const RECOVERY_CODE_COUNT = 10;

/**
 * One recovery code: `xxxx-xxxx-xxxx`, 12 base32 characters = 60 random bits. Online guessing is capped
 * by the mfa_token attempt budget; offline, a leaked table is useless without the server's key, since
 * codes are stored HMAC'd under a key derived from the key-encryption key (mfa/recovery.ts).
 */
export function newRecoveryCode(): string {
  let s = '';
  for (let i = 0; i < 12; i++) s += BASE32[randomInt(32)];
  return `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8, 12)}`;
}

export function newRecoveryCodes(n = RECOVERY_CODE_COUNT): string[] {
  const codes = new Set<string>();
  while (codes.size < n) codes.add(newRecoveryCode());
  return [...codes];
}

/** Users type codes with spaces, without dashes or in upper case: all of that is the same code. */
export function normalizeRecoveryCode(input: string): string | null {
  const s = input.toLowerCase().replace(/[\s-]/g, '');
  return /^[a-z2-7]{12}$/.test(s) ? s : null;
}

/** The form recovery codes were stored in before they were HMAC'd (still accepted: mfa/recovery.ts). */
export function legacyRecoveryCodeHash(normalized: string): string {
  return sha256(`recovery:${normalized}`);
}

/** A 6-digit one-time code for email or SMS, uniformly drawn (no modulo bias). */
export function newNumericCode(digits = 6): string {
  return String(randomInt(10 ** digits)).padStart(digits, '0');
}

export function isNumericCode(input: string, digits = 6): boolean {
  return input.length === digits && /^\d+$/.test(input);
}
