import { availableParallelism } from 'node:os';
import { zxcvbn, zxcvbnOptions } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import { dictionary } from '@zxcvbn-ts/language-common';
import { Argon2PoolError, sharedArgon2Pool, type Argon2Pool } from '../lib/argon2-pool.js';
import { TesseraError } from './errors.js';

export interface Argon2Params {
  memoryCost: number; // KiB
  timeCost: number;
  parallelism: number;
}

/**
 * argon2id via @node-rs/argon2 on worker threads (lib/argon2-pool.ts), so hashing never blocks the event loop.
 * Parameters come from config, never below OWASP's floor (m=19 MiB, t=2, p=1).
 *
 * At most one job per available core runs at a time (`concurrency`); the others queue. More jobs than cores
 * only share the cores and thrash their caches (each needs its 19 MiB), and the extra threads then also
 * starve the event loop: bounded, throughput stays at the raw limit and every other request stays fast.
 */
export class PasswordHasher {
  readonly #params: Argon2Params;
  readonly #pool: Argon2Pool;
  #dummy: Promise<string> | undefined;

  /** `pool`: the process's pool for `concurrency` (default: the available cores) unless one is given */
  constructor(params: Argon2Params, opts: { concurrency?: number; pool?: Argon2Pool } = {}) {
    if (params.memoryCost < 19_456 || params.timeCost < 2 || params.parallelism < 1) {
      throw new TypeError('argon2id parameters below m=19456 KiB, t=2, p=1');
    }
    this.#params = params;
    this.#pool = opts.pool ?? sharedArgon2Pool(opts.concurrency ?? availableParallelism());
  }

  hash(password: string): Promise<string> {
    // 2 is @node-rs/argon2's Algorithm.Argon2id (an ambient const enum, not importable as a value)
    return this.#pool.hash(password, { algorithm: 2, ...this.#params });
  }

  async verify(stored: string, password: string): Promise<boolean> {
    try {
      return await this.#pool.verify(stored, password);
    } catch (err) {
      if (err instanceof Argon2PoolError) throw err; // our failure, not a wrong password: no failed attempt counted
      return false; // a malformed stored hash never authenticates
    }
  }

  /** argon2 jobs running and queued now */
  load(): { active: number; waiting: number } {
    return this.#pool.load();
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

/**
 * An email to store (sign-up): normalised first, then validated, so what is checked is what is kept. Checked
 * the other way round, `x＠corp@evil` (a full-width ＠ that NFKC turns into `@`) passes as one `@` and is
 * stored with two: an address that routes somewhere other than it reads, and a second spelling of accounts.
 */
export function normalizeNewEmail(email: string): string {
  const n = normalizeEmail(email);
  if (n.length > 320 || !/^[^\s@]+@[^\s@]+$/u.test(n)) throw new TesseraError('invalid_request', { detail: 'Invalid body/email: not an email address.' });
  return n;
}

const COMMON = new Set(dictionary.passwords.map((p) => p.toLowerCase()));

let estimatorReady = false;
/** zxcvbn's dictionaries are ranked on first use, not at import: CLI commands that never check one start faster. */
function estimate(password: string, userInputs: string[]): ReturnType<typeof zxcvbn> {
  if (!estimatorReady) {
    zxcvbnOptions.setOptions({ dictionary: { ...common.dictionary }, graphs: common.adjacencyGraphs });
    estimatorReady = true;
  }
  return zxcvbn(password, userInputs);
}

export const PASSWORD_MAX_LENGTH = 1024;

/** The service's own name: a password built on it is among the first an attacker tries here. */
const SERVICE_NAMES = ['tessera'];
/** zxcvbn's estimate must reach 3 ("safely unguessable": over 10^10 guesses, beyond an offline slow-hash run). */
const MIN_SCORE = 3;
/** zxcvbn matching grows fast with length; a password this long is not weak for its length alone. */
const ESTIMATE_CHARS = 100;

const WHY: Record<string, string> = {
  userInputs: 'it is built on your email address or the name of this service',
  dates: 'it contains a date, which is easy to guess',
  recentYears: 'it contains a recent year, which is easy to guess',
  straightRow: 'it is a row of keys on the keyboard',
  keyPattern: 'it is a keyboard pattern',
  sequences: 'it is a sequence like "abc" or "123"',
  simpleRepeat: 'it repeats characters',
  extendedRepeat: 'it repeats a pattern',
  namesByThemselves: 'it is a common name',
  commonNames: 'it is built on a common name',
};

/** Undoes the usual substitutions (P@ssw0rd) and drops what is not a letter, to see the word beneath. */
function letters(s: string): string {
  const leet: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's', '!': 'i' };
  return [...s.toLowerCase()].map((c) => leet[c] ?? c).join('').replace(/[^\p{L}]/gu, '');
}

/** Words a password must not be built on: the service name, the email's local part and domain labels. */
function personalWords(email: string | undefined): string[] {
  const [local = '', domain = ''] = (email ?? '').toLowerCase().split('@');
  const words = [...SERVICE_NAMES, local, ...domain.split('.').slice(0, -1)].map(letters);
  return [...new Set(words.filter((w) => w.length >= 3))];
}

const weak = (why: string) => new TesseraError('weak_password', { detail: `This password is too easy to guess: ${why}. A passphrase of several unrelated words is long and easy to remember.` });

/**
 * NIST SP 800-63B-4 §3.1.1.2: a minimum length, at least 64 (we allow 1024) characters, no composition rules,
 * a check against a list of commonly used and breached passwords (the zxcvbn-ts common list, ~49k entries),
 * and no passwords built on context the attacker knows (the service name, the email). On top, a real
 * strength estimate (zxcvbn) refuses what the list misses: `Summer2024!`, `Welcome1!`, `Password123!` are
 * one season, word or year plus the symbols composition rules taught everyone to add. Length counts Unicode
 * code points after NFKC, as the standard asks. The message says why, so the user can do better.
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
    throw new TesseraError('weak_password', { detail: 'This password is too common (it is on a list of common and breached passwords); choose another.' });
  }
  if (context.email && lower === context.email.toLowerCase()) throw new TesseraError('weak_password', { detail: 'The password must not be your email address.' });
  // Built on a known word (also spelt t3ss3r@): the word plus fewer than four other letters (digits and
  // symbols around it do not count).
  const core = letters(normalized);
  const plainLetters = lower.replace(/[^\p{L}]/gu, '').length;
  for (const w of personalWords(context.email)) {
    if (core.includes(w) && plainLetters - w.length < 4) throw weak(`it is built on "${w}"`);
  }
  const strength = estimate([...normalized].slice(0, ESTIMATE_CHARS).join(''), personalWords(context.email));
  if (strength.score < MIN_SCORE) {
    const key = strength.feedback.warning ?? '';
    throw weak(WHY[key] ?? 'it is a common password or close to one');
  }
}
