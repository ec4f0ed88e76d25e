/**
 * The RSA keys that sign ID tokens and logout tokens (RS256, the algorithm every OIDC client supports). Same
 * life cycle as the access-token keys: `next` published ahead, `current` signs, `previous` still verifies;
 * `tessera keys rotate` rotates both sets. Private halves are sealed under the key-encryption key with the
 * kid as associated data, and a row's key material must hash to its kid before it is trusted.
 */
import * as jose from 'jose';
import type { Clock } from '../../lib/clock.js';
import type { SecretBox } from '../crypto.js';
import type { IdTokenKeyRow, OAuthStore } from '../../store/ports/oauth.js';

interface LoadedIdKey {
  row: IdTokenKeyRow;
  publicJwk: jose.JWK;
  verify: CryptoKey;
  sign: CryptoKey;
}

const ORDER = { current: 0, next: 1, previous: 2, retired: 3 } as const;

export class IdTokenKeys {
  #keys = new Map<string, LoadedIdKey>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Pick<OAuthStore, 'listIdKeys' | 'rotateIdKeys' | 'completeIdKeys'>,
    private readonly box: SecretBox,
    private readonly clock: Clock,
  ) {}

  /** Creates `current` and `next` on first start (checked under the rotation lock, so racing nodes agree), then loads. */
  async init(): Promise<void> {
    // at most two rotations complete an empty table; each is a no-op once another node completed it
    for (let attempt = 0; attempt < 3; attempt++) {
      if (!(await this.store.completeIdKeys(await this.#newRow()))) break;
    }
    await this.reload();
  }

  async rotate(): Promise<void> {
    await this.store.rotateIdKeys(await this.#newRow());
    await this.reload();
  }

  async reload(): Promise<void> {
    const next = new Map<string, LoadedIdKey>();
    for (const row of await this.store.listIdKeys()) {
      const known = this.#keys.get(row.kid);
      next.set(row.kid, known ? { ...known, row } : await this.#open(row));
    }
    if (![...next.values()].some((k) => k.row.state === 'current')) throw new Error('no current RS256 ID-token key in the store');
    this.#keys = next;
  }

  start(intervalSec: number, onError: (err: unknown) => void): void {
    this.#timer ??= setInterval(() => {
      this.reload().catch(onError);
    }, intervalSec * 1000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  signingKey(): { kid: string; key: CryptoKey } {
    const current = this.#ordered().find((k) => k.row.state === 'current');
    if (!current) throw new Error('IdTokenKeys has no current key: call init() first');
    return { kid: current.row.kid, key: current.sign };
  }

  /** Resolver for jose: RS256 and a known kid only. */
  readonly getVerificationKey = (header: jose.JWSHeaderParameters): CryptoKey => {
    if (header.alg !== 'RS256') throw new jose.errors.JOSEAlgNotAllowed('"alg" (Algorithm) Header Parameter value not allowed');
    const key = typeof header.kid === 'string' ? this.#keys.get(header.kid) : undefined;
    if (!key) throw new jose.errors.JWKSNoMatchingKey();
    return key.verify;
  };

  jwks(): jose.JWK[] {
    return this.#ordered().map((k) => ({ ...k.publicJwk, kid: k.row.kid, alg: 'RS256', use: 'sig' }));
  }

  #ordered(): LoadedIdKey[] {
    return [...this.#keys.values()].sort((a, b) => ORDER[a.row.state] - ORDER[b.row.state] || a.row.createdAt - b.row.createdAt || a.row.kid.localeCompare(b.row.kid));
  }

  async #open(row: IdTokenKeyRow): Promise<LoadedIdKey> {
    const privateJwk = JSON.parse(this.box.open(row.privateSealed, row.kid)) as jose.JWK;
    const publicJwk: jose.JWK = { kty: 'RSA', n: privateJwk.n, e: privateJwk.e };
    if ((await jose.calculateJwkThumbprint(publicJwk, 'sha256')) !== row.kid) throw new Error(`ID-token key ${row.kid}: key material does not match its kid`);
    return {
      row,
      publicJwk,
      verify: (await jose.importJWK(publicJwk, 'RS256')) as CryptoKey,
      sign: (await jose.importJWK(privateJwk, 'RS256', { extractable: false })) as CryptoKey,
    };
  }

  async #newRow(): Promise<IdTokenKeyRow> {
    const { privateKey } = await jose.generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
    const privateJwk = await jose.exportJWK(privateKey);
    const publicJwk: jose.JWK = { kty: 'RSA', n: privateJwk.n, e: privateJwk.e };
    const kid = await jose.calculateJwkThumbprint(publicJwk, 'sha256');
    return { kid, alg: 'RS256', publicJwk: JSON.stringify(publicJwk), privateSealed: this.box.seal(JSON.stringify(privateJwk), kid), state: 'next', createdAt: this.clock.now() };
  }
}
