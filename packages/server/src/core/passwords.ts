import { hash, verify, type Algorithm } from '@node-rs/argon2';
import { dictionary } from '@zxcvbn-ts/language-common';
import { TesseraError } from './errors.js';

export interface Argon2Params {
  memoryCost: number; // KiB
  timeCost: number;
  parallelism: number;
}

/**
 * argon2id via @node-rs/argon2: the work runs on libuv's thread pool, so hashing never blocks the event loop.
 * Parameters come from config, never below OWASP's floor (m=19 MiB, t=2, p=1).
 */
export class PasswordHasher {
  readonly #params: Argon2Params;
  #dummy: Promise<string> | undefined;

  constructor(params: Argon2Params) {
    if (params.memoryCost < 19_456 || params.timeCost < 2 || params.parallelism < 1) {
      throw new TypeError('argon2id parameters below m=19456 KiB, t=2, p=1');
    }
    this.#params = params;
  }

  hash(password: string): Promise<string> {
    // Algorithm.Argon2id is an ambient const enum (2), which verbatimModuleSyntax cannot import as a value.
    return hash(password, { algorithm: 2 as Algorithm, ...this.#params });
  }

  async verify(stored: string, password: string): Promise<boolean> {
    try {
      return await verify(stored, password);
    } catch {
      return false; // a malformed stored hash never authenticates
    }
  }

  /**
   * For unknown users: verify against a real hash with the same parameters, so "no such account" costs the
   * same time as "wrong password" and response timing does not enumerate accounts.
   */
  async verifyDummy(password: string): Promise<false> {
    this.#dummy ??= this.hash('tessera-dummy-password-for-timing');
    await this.verify(await this.#dummy, password);
    return false;
  }

  /** A hash made with weaker (or merely different) parameters is re-hashed on the next successful login. */
  needsRehash(stored: string): boolean {
    const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(stored);
    if (!m) return true;
    return Number(m[1]) !== this.#params.memoryCost || Number(m[2]) !== this.#params.timeCost || Number(m[3]) !== this.#params.parallelism;
  }
}

/** Emails are user names: trimmed, NFKC, lower-cased, so variants are one account (and one rate-limit key). */
export function normalizeEmail(email: string): string {
  return email.trim().normalize('NFKC').toLowerCase();
}

const COMMON = new Set(dictionary.passwords.map((p) => p.toLowerCase()));

export const PASSWORD_MAX_LENGTH = 1024;

/**
 * NIST SP 800-63B-4 §3.1.1.2: a minimum length, at least 64 (we allow 1024) characters, no composition rules,
 * and a check against a list of commonly used and breached passwords (the zxcvbn-ts common list, ~49k entries).
 * Length counts Unicode code points after NFKC, as the standard asks.
 */
export function checkPasswordPolicy(password: string, minLength: number, context: { email?: string } = {}): void {
  const normalized = password.normalize('NFKC');
  const length = [...normalized].length;
  if (length < minLength) {
    throw new TesseraError('weak_password', { detail: `The password must have at least ${minLength} characters.` });
  }
  if (length > PASSWORD_MAX_LENGTH) {
    throw new TesseraError('weak_password', { detail: `The password may have at most ${PASSWORD_MAX_LENGTH} characters.` });
  }
  const lower = normalized.toLowerCase();
  if (COMMON.has(lower) || /^(.)\1+$/u.test(normalized)) {
    throw new TesseraError('weak_password', { detail: 'This password is too common; choose another.' });
  }
  const local = context.email?.split('@')[0];
  if (context.email && (lower === context.email.toLowerCase() || (local && local.length >= 4 && lower === local.toLowerCase()))) {
    throw new TesseraError('weak_password', { detail: 'The password must not be your email address.' });
  }
}
