import { createHmac } from 'node:crypto';
import * as jose from 'jose';
import type { KeyState, KeyStore, SigningKeyRow } from '../store/ports/index.js';
import type { Clock } from '../lib/clock.js';
import { systemClock } from '../lib/clock.js';
import type { SecretBox } from './crypto.js';

export type SigningAlg = 'EdDSA' | 'ES256' | 'HS256';

export interface KeyManagerOptions {
  alg: SigningAlg;
  /** required when alg is HS256 (≥ 32 bytes) */
  hs256Secret?: string;
  clock?: Clock;
  /** seconds between reloads from the store (default 5) */
  reloadIntervalSec?: number;
  /** called when a periodic reload fails; the last good key set stays in use */
  onReloadError?: (err: unknown) => void;
}

export interface SigningKey {
  kid: string;
  alg: SigningAlg;
  key: CryptoKey | Uint8Array;
}

export interface KeyInfo {
  kid: string;
  alg: string;
  state: KeyState;
  createdAt: number;
}

interface LoadedKey extends KeyInfo {
  publicJwk: jose.JWK | null;
  verify: CryptoKey | Uint8Array;
  sign: CryptoKey | Uint8Array;
}

/** Marker stored instead of key material: an HS256 secret lives only in configuration, never in the DB. */
export const HS256_MARKER = 'config:TESSERA_HS256_SECRET';

const LIVE_STATES: readonly KeyState[] = ['current', 'next', 'previous'];
const STATE_ORDER: Record<KeyState, number> = { current: 0, next: 1, previous: 2, retired: 3 };

function publicPart(jwk: jose.JWK): jose.JWK {
  const { kty, crv, x, y } = jwk;
  return y === undefined ? { kty, crv, x } : { kty, crv, x, y };
}

/** kid of the HS256 key: an HMAC of a fixed label, no more revealing than any token's own signature. */
export function hs256Kid(secret: string): string {
  return `hs-${createHmac('sha256', secret).update('tessera-kid').digest().subarray(0, 16).toString('base64url')}`;
}

/**
 * Signing keys shared by every node through the store: `next` (published ahead, so caches know it before it
 * signs), `current` (signs), `previous` (still verifies tokens issued before the last rotation).
 */
export class KeyManager {
  readonly alg: SigningAlg;
  readonly #store: KeyStore;
  readonly #box: SecretBox;
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #onReloadError: (err: unknown) => void;
  readonly #hs256Secret: string | undefined;
  #keys = new Map<string, LoadedKey>();
  #timer: NodeJS.Timeout | undefined;
  #reloading: Promise<void> | undefined;
  #hs256CreatedAt = 0;
  #withdrawals = 0;

  constructor(store: KeyStore, box: SecretBox, opts: KeyManagerOptions) {
    this.#store = store;
    this.#box = box;
    this.alg = opts.alg;
    this.#clock = opts.clock ?? systemClock;
    this.#intervalMs = (opts.reloadIntervalSec ?? 5) * 1000;
    this.#onReloadError = opts.onReloadError ?? (() => undefined);
    if (opts.alg === 'HS256') {
      if (opts.hs256Secret === undefined || Buffer.byteLength(opts.hs256Secret) < 32) {
        throw new TypeError('HS256 needs hs256Secret of at least 32 bytes');
      }
      this.#hs256Secret = opts.hs256Secret;
    }
  }

  /** Loads the key set, creating `current` and `next` when the store holds none of this algorithm. */
  async init(): Promise<void> {
    if (this.#hs256Secret !== undefined) await this.#ensureHs256Row(this.#hs256Secret);
    else await this.#ensureKeySet();
    await this.reload();
  }

  async reload(): Promise<void> {
    // Concurrent callers share one read so a slow store cannot pile up reloads.
    this.#reloading ??= this.#doReload().finally(() => {
      this.#reloading = undefined;
    });
    return this.#reloading;
  }

  /** next → current → previous → retired, with a fresh `next`. Returns the new `next`. */
  async rotate(): Promise<KeyInfo> {
    if (this.alg === 'HS256') throw new TypeError('HS256 keys rotate by changing TESSERA_HS256_SECRET');
    const row = await this.#newKeyRow('next');
    await this.#store.rotateSigningKeys(row);
    // A reload already in flight may have read the rows before the rotation: wait it out, then read again.
    await this.#reloading?.catch(() => undefined);
    await this.reload();
    return { kid: row.kid, alg: row.alg, state: row.state, createdAt: row.createdAt };
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      this.reload().catch(this.#onReloadError);
    }, this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * How many times a verification key has left the set (retired by a rotation, or gone from the store):
   * whoever caches tokens verified with these keys drops them when this changes.
   */
  get withdrawals(): number {
    return this.#withdrawals;
  }

  signingKey(): SigningKey {
    const current = this.#ordered().find((k) => k.state === 'current');
    if (!current) throw new Error('KeyManager has no current key: call init() first');
    return { kid: current.kid, alg: this.alg, key: current.sign };
  }

  /** Key resolver for jose: current, previous and next by `kid`; anything else is refused. */
  readonly getVerificationKey: jose.JWTVerifyGetKey = (header) => {
    // The allow-list is also enforced by the verifier; checking here too keeps the resolver safe on its own.
    if (header.alg !== this.alg) throw new jose.errors.JOSEAlgNotAllowed('"alg" (Algorithm) Header Parameter value not allowed');
    const key = typeof header.kid === 'string' ? this.#keys.get(header.kid) : undefined;
    if (!key) throw new jose.errors.JWKSNoMatchingKey();
    return key.verify;
  };

  /** Public keys to publish. Symmetric (HS256) keys are never published. */
  jwks(): { keys: jose.JWK[] } {
    const keys: jose.JWK[] = [];
    for (const k of this.#ordered()) {
      if (k.publicJwk) keys.push({ ...k.publicJwk, kid: k.kid, alg: this.alg, use: 'sig' });
    }
    return { keys };
  }

  /** The loaded keys (current, next, previous) in that order, for `tessera keys list`. */
  list(): KeyInfo[] {
    return this.#ordered().map(({ kid, alg, state, createdAt }) => ({ kid, alg, state, createdAt }));
  }

  // Deterministic order, so that if the store ever held two `current` rows every node would sign with the same.
  #ordered(): LoadedKey[] {
    return [...this.#keys.values()].sort(
      (a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || a.createdAt - b.createdAt || a.kid.localeCompare(b.kid),
    );
  }

  async #liveRows(): Promise<SigningKeyRow[]> {
    const rows = await this.#store.listSigningKeys();
    return rows.filter((r) => r.alg === this.alg && LIVE_STATES.includes(r.state));
  }

  async #doReload(): Promise<void> {
    if (this.#hs256Secret !== undefined) {
      if (this.#keys.size === 0) this.#keys = new Map([[hs256Kid(this.#hs256Secret), this.#hs256Key(this.#hs256Secret)]]);
      return;
    }
    const rows = await this.#liveRows();
    const next = new Map<string, LoadedKey>();
    for (const row of rows) {
      const known = this.#keys.get(row.kid);
      const loaded = known ?? (await this.#openRow(row));
      next.set(row.kid, { ...loaded, state: row.state });
    }
    if (![...next.values()].some((k) => k.state === 'current')) {
      throw new Error(`no current ${this.alg} signing key in the store`);
    }
    for (const kid of this.#keys.keys()) {
      if (!next.has(kid)) {
        this.#withdrawals++;
        break;
      }
    }
    this.#keys = next;
  }

  /**
   * Trusts only what the KEK authenticates: the public key is derived from the sealed private JWK (opened
   * with the kid as AAD) and must hash to the kid, so a row written by someone with database access but
   * without the KEK (or a sealed key swapped between rows) can never become a verification key.
   */
  async #openRow(row: SigningKeyRow): Promise<LoadedKey> {
    const privateJwk = JSON.parse(this.#box.open(row.privateSealed, row.kid)) as jose.JWK;
    const publicJwk = publicPart(privateJwk);
    if ((await jose.calculateJwkThumbprint(publicJwk, 'sha256')) !== row.kid) {
      throw new Error(`signing key ${row.kid}: key material does not match its kid`);
    }
    return {
      kid: row.kid,
      alg: row.alg,
      state: row.state,
      createdAt: row.createdAt,
      publicJwk,
      verify: (await jose.importJWK(publicJwk, this.alg)) as CryptoKey,
      sign: (await jose.importJWK(privateJwk, this.alg, { extractable: false })) as CryptoKey,
    };
  }

  #hs256Key(secret: string): LoadedKey {
    const bytes = new Uint8Array(Buffer.from(secret, 'utf8'));
    return { kid: hs256Kid(secret), alg: 'HS256', state: 'current', createdAt: this.#hs256CreatedAt, publicJwk: null, verify: bytes, sign: bytes };
  }

  async #newKeyRow(state: KeyState): Promise<SigningKeyRow> {
    const { privateKey } = await jose.generateKeyPair(this.alg === 'EdDSA' ? 'Ed25519' : 'ES256', { extractable: true });
    const privateJwk = await jose.exportJWK(privateKey);
    const publicJwk = publicPart(privateJwk);
    const kid = await jose.calculateJwkThumbprint(publicJwk, 'sha256');
    return {
      kid,
      alg: this.alg,
      publicJwk: JSON.stringify(publicJwk),
      privateSealed: this.#box.seal(JSON.stringify(privateJwk), kid),
      state,
      createdAt: this.#clock.now(),
    };
  }

  /**
   * Bootstraps inside one locked transaction that inserts `current` and `next` only when the algorithm has
   * no `current` key yet: however many nodes start at once on an empty database, exactly one set is created
   * and every node loads that set, so all of them sign with the same key from the first token on (a racer
   * that rotated on its own stale read would leave nodes signing with different keys until their reload).
   */
  async #ensureKeySet(): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 8; attempt++) {
      const rows = await this.#liveRows();
      if (rows.some((r) => r.state === 'current') && rows.some((r) => r.state === 'next')) return;
      try {
        if (rows.some((r) => r.state === 'current')) await this.#store.rotateSigningKeys(await this.#newKeyRow('next'));
        else await this.#store.bootstrapSigningKeys(await this.#newKeyRow('current'), await this.#newKeyRow('next'));
      } catch (err) {
        // SQLITE_BUSY or a serialisation failure against a racing node: re-read and try again.
        lastError = err;
        await new Promise((r) => setTimeout(r, 10 + Math.random() * 40));
      }
    }
    throw new Error(`could not create the ${this.alg} signing keys`, { cause: lastError });
  }

  async #ensureHs256Row(secret: string): Promise<void> {
    const kid = hs256Kid(secret);
    const rows = await this.#store.listSigningKeys();
    const existing = rows.find((r) => r.kid === kid);
    if (existing) {
      this.#hs256CreatedAt = existing.createdAt;
      return;
    }
    const row: SigningKeyRow = {
      kid,
      alg: 'HS256',
      publicJwk: '{}',
      privateSealed: HS256_MARKER,
      state: 'current',
      createdAt: this.#clock.now(),
    };
    this.#hs256CreatedAt = row.createdAt;
    try {
      await this.#store.insertSigningKey(row);
    } catch {
      // Another node inserted the same marker, or a row of an earlier secret holds the slot. The row is only
      // a record for `tessera keys list`: the secret itself comes from configuration. A store that is down
      // fails this re-read instead.
      await this.#store.listSigningKeys();
    }
  }
}
