import { createHmac, timingSafeEqual } from 'node:crypto';

export interface DpopNonceOptions {
  /** HMAC key (≥ 32 bytes), the same on every node that checks proofs for this origin. */
  secret: string | Uint8Array;
  /** Length of one nonce window in seconds; a nonce is accepted in its own window and the next. Default 60. */
  windowSec?: number;
  now?: () => number;
}

/**
 * Server-issued DPoP nonces (RFC 9449 §8, §9), stateless: `window.HMAC(secret, window)`, so every node that
 * shares the secret issues and accepts the same values without shared state. A proof must carry a nonce
 * issued at most two windows ago, so a key holder (malware driving the page) cannot sign proofs now for use
 * later: a proof can be no older than the nonce it carries, whatever `iat` it claims.
 */
export class DpopNonces {
  readonly #key: Buffer;
  readonly #windowMs: number;
  readonly #now: () => number;
  #cached: { window: number; nonce: string } | undefined;

  constructor(o: DpopNonceOptions) {
    this.#key = Buffer.from(o.secret);
    if (this.#key.length < 32) throw new TypeError('DpopNonces: secret must be at least 32 bytes');
    const windowSec = o.windowSec ?? 60;
    if (!(windowSec >= 1)) throw new TypeError('DpopNonces: windowSec must be at least 1');
    this.#windowMs = windowSec * 1000;
    this.#now = o.now ?? Date.now;
  }

  /** The nonce to hand out now (`DPoP-Nonce` header); the same value for a whole window. */
  current(): string {
    const window = Math.floor(this.#now() / this.#windowMs);
    if (this.#cached?.window !== window) this.#cached = { window, nonce: this.#make(window) };
    return this.#cached.nonce;
  }

  /** Whether a proof's `nonce` claim was issued by us in this window or the previous one. */
  isValid(nonce: unknown): boolean {
    if (typeof nonce !== 'string' || nonce.length > 64) return false;
    const dot = nonce.indexOf('.');
    const window = Number.parseInt(nonce.slice(0, dot), 36);
    const current = Math.floor(this.#now() / this.#windowMs);
    if (dot <= 0 || !Number.isSafeInteger(window) || (window !== current && window !== current - 1)) return false;
    const expected = Buffer.from(this.#make(window));
    const given = Buffer.from(nonce);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  #make(window: number): string {
    const w = window.toString(36);
    return `${w}.${createHmac('sha256', this.#key).update(`dpop-nonce:${w}`).digest('base64url').slice(0, 32)}`;
  }
}
