import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as jose from 'jose';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { SecretBox } from '../../src/core/crypto.js';
import { loadKeyEncryptionKey } from '../../src/core/kek.js';
import { HS256_MARKER, hs256Kid, KeyManager, type KeyManagerOptions } from '../../src/core/keys.js';
import { openSqlStore } from '../../src/store/connect.js';
import type { SqlStore } from '../../src/store/connect.js';
import { hasMysql, hasPostgres, MYSQL_URL, PG_URL } from '../support/services.js';
import { dropMysqlDatabases, freshMysqlDatabase } from '../support/store-fixtures.js';

const box = new SecretBox(randomBytes(32));
const HS_SECRET = 'an-hs256-secret-of-at-least-32-bytes!';

/** A database that several connections can open at once: a temp SQLite file, or a fresh PostgreSQL schema. */
interface Backend {
  name: string;
  skip: boolean;
  create(): Promise<{ open(): Promise<SqlStore>; drop(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'SQLite',
    skip: false,
    async create() {
      const dir = await mkdtemp(path.join(tmpdir(), 'tessera-keys-'));
      const url = `sqlite:${dir}/tessera.db`;
      return {
        open: async () => openSqlStore(url),
        drop: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'PostgreSQL',
    skip: !hasPostgres,
    async create() {
      const pgSchema = `keys_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
      return {
        open: async () => openSqlStore(PG_URL, { pgSchema }),
        async drop() {
          const s = await openSqlStore(PG_URL);
          await sql`drop schema if exists ${sql.id(pgSchema)} cascade`.execute(s.db);
          await s.close();
        },
      };
    },
  },
  {
    name: 'MariaDB',
    skip: !hasMysql,
    async create() {
      const database = freshMysqlDatabase();
      return {
        open: async () => openSqlStore(`${MYSQL_URL}/${database}`),
        drop: () => dropMysqlDatabases([database]),
      };
    },
  },
];

async function signWith(km: KeyManager, payload: jose.JWTPayload = { sub: 'u1' }): Promise<string> {
  const { kid, alg, key } = km.signingKey();
  return new jose.SignJWT(payload).setProtectedHeader({ alg, kid, typ: 'at+jwt' }).sign(key);
}

const verify = (km: KeyManager, token: string) => jose.jwtVerify(token, km.getVerificationKey, { algorithms: [km.alg] });

for (const backend of backends) {
  describe.skipIf(backend.skip)(`KeyManager on ${backend.name}`, () => {
    let db: Awaited<ReturnType<Backend['create']>>;
    const opened: SqlStore[] = [];
    const managers: KeyManager[] = [];

    async function openMigrated(): Promise<SqlStore> {
      const s = await db.open();
      opened.push(s);
      await s.migrate();
      return s;
    }
    async function manager(store: SqlStore, opts: Partial<KeyManagerOptions> = {}): Promise<KeyManager> {
      const km = new KeyManager(store, box, { alg: 'EdDSA', clock: new FakeClock(), ...opts });
      managers.push(km);
      await km.init();
      return km;
    }

    beforeAll(async () => {
      db = await backend.create();
    });
    afterEach(async () => {
      for (const km of managers.splice(0)) km.stop();
      for (const s of opened.splice(0)) await s.close();
      await db.drop();
      db = await backend.create();
    });
    afterAll(async () => db.drop());

    it('init creates a current and a next Ed25519 key, and a second init reuses them', async () => {
      const store = await openMigrated();
      const km = await manager(store);
      expect(km.list().map((k) => [k.state, k.alg])).toEqual([
        ['current', 'EdDSA'],
        ['next', 'EdDSA'],
      ]);
      const again = await manager(store);
      expect(again.list()).toEqual(km.list());
      expect(await store.listSigningKeys()).toHaveLength(2);
    });

    it('JWKS publishes current and next public keys with kid = RFC 7638 thumbprint and no private members', async () => {
      const km = await manager(await openMigrated());
      const { keys } = km.jwks();
      expect(keys.map((k) => k.kid)).toEqual(km.list().map((k) => k.kid));
      for (const k of keys) {
        expect(k).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
        expect(k.d).toBeUndefined();
        expect(await jose.calculateJwkThumbprint(k)).toBe(k.kid);
      }
      expect(km.signingKey().kid).toBe(keys[0].kid);
    });

    it('private keys are sealed at rest: the raw rows hold no "d"', async () => {
      const store = await openMigrated();
      await manager(store);
      const rows = await store.db.selectFrom('signingKeys').selectAll().execute();
      expect(rows).toHaveLength(2);
      for (const r of rows) {
        expect(JSON.stringify(r)).not.toContain('"d"');
        expect(r.privateSealed).toMatch(/^v1\./);
        expect(JSON.parse(r.publicJwk)).not.toHaveProperty('d');
      }
    });

    it('a sealed private key moved to another row is refused (the kid is its AAD)', async () => {
      const store = await openMigrated();
      await manager(store);
      const [a, b] = await store.db.selectFrom('signingKeys').selectAll().execute();
      await store.db.updateTable('signingKeys').set({ privateSealed: a.privateSealed }).where('kid', '=', b.kid).execute();
      await expect(new KeyManager(store, box, { alg: 'EdDSA' }).init()).rejects.toThrow();
    });

    it('a public key replaced in the database does not become a verification key', async () => {
      const store = await openMigrated();
      const km = await manager(store);
      const attacker = await jose.generateKeyPair('Ed25519', { extractable: true });
      const forged = JSON.stringify(await jose.exportJWK(attacker.publicKey));
      await store.db.updateTable('signingKeys').set({ publicJwk: forged }).execute();
      const fresh = await manager(store);
      expect(fresh.jwks()).toEqual(km.jwks());
      const token = await new jose.SignJWT({ sub: 'admin' })
        .setProtectedHeader({ alg: 'EdDSA', kid: km.signingKey().kid })
        .sign(attacker.privateKey);
      await expect(verify(fresh, token)).rejects.toThrow(jose.errors.JWSSignatureVerificationFailed);
    });

    it('rotate moves next → current → previous; tokens signed before keep verifying while their key is previous', async () => {
      const km = await manager(await openMigrated());
      const [k1, k2] = km.list().map((k) => k.kid);
      const old = await signWith(km);
      const next = await km.rotate();
      expect(km.list().map((k) => [k.kid, k.state])).toEqual([
        [k2, 'current'],
        [next.kid, 'next'],
        [k1, 'previous'],
      ]);
      expect(km.signingKey().kid).toBe(k2);
      expect(km.jwks().keys.map((k) => k.kid)).toEqual([k2, next.kid, k1]);
      expect((await verify(km, old)).payload.sub).toBe('u1');
      expect((await verify(km, await signWith(km))).protectedHeader.kid).toBe(k2);
    });

    it('after two rotations the oldest key is retired: unpublished, and its tokens refused', async () => {
      const store = await openMigrated();
      const km = await manager(store);
      const k1 = km.signingKey().kid;
      const old = await signWith(km);
      await km.rotate();
      await km.rotate();
      expect(km.jwks().keys.map((k) => k.kid)).not.toContain(k1);
      expect(km.list()).toHaveLength(3);
      await expect(verify(km, old)).rejects.toThrow(jose.errors.JWKSNoMatchingKey);
      expect((await store.listSigningKeys()).find((r) => r.kid === k1)?.state).toBe('retired');
    });

    it('reload picks up a rotation made by another KeyManager (another node or the CLI)', async () => {
      const a = await manager(await openMigrated());
      const b = await manager(await openMigrated());
      await b.rotate();
      expect(a.signingKey().kid).not.toBe(b.signingKey().kid);
      await a.reload();
      expect(a.signingKey().kid).toBe(b.signingKey().kid);
      expect(a.jwks()).toEqual(b.jwks());
    });

    it('start() reloads periodically so a running node follows a rotation', async () => {
      const a = await manager(await openMigrated(), { reloadIntervalSec: 1 });
      const b = await manager(await openMigrated());
      a.start();
      await b.rotate();
      await vi.waitFor(() => expect(a.signingKey().kid).toBe(b.signingKey().kid), { timeout: 5000, interval: 100 });
    });

    it('two nodes initialising at once on an empty database end with one key set', async () => {
      // Migrations run first: this test is about the key bootstrap, not about racing migrations.
      const stores = [await openMigrated(), await openMigrated(), await openMigrated()];
      const kms = stores.map((s) => new KeyManager(s, box, { alg: 'EdDSA' }));
      managers.push(...kms);
      await Promise.all(kms.map((km) => km.init()));
      const rows = await stores[0].listSigningKeys();
      // A racer's extra bootstrap rotation may leave a `previous` (and retire a key nobody signed with), but
      // never two keys in one state: every node signs with the same key and publishes the same set.
      const live = rows.filter((r) => r.state !== 'retired').map((r) => r.state);
      expect(live.filter((st) => st === 'current')).toHaveLength(1);
      expect(live.filter((st) => st === 'next')).toHaveLength(1);
      expect(live.filter((st) => st === 'previous').length).toBeLessThanOrEqual(1);
      for (const km of kms) {
        await km.reload();
        expect(km.jwks()).toEqual(kms[0].jwks());
        expect(km.signingKey().kid).toBe(rows.find((r) => r.state === 'current')!.kid);
      }
    });

    it('ES256 mode uses P-256 keys', async () => {
      const km = await manager(await openMigrated(), { alg: 'ES256' });
      const { keys } = km.jwks();
      expect(keys).toHaveLength(2);
      for (const k of keys) {
        expect(k).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
        expect(k.d).toBeUndefined();
      }
      const old = await signWith(km);
      await km.rotate();
      expect((await verify(km, old)).protectedHeader).toMatchObject({ alg: 'ES256' });
      // The resolver refuses a token whose header names another algorithm, whatever the verifier allows.
      const ed = await jose.generateKeyPair('Ed25519');
      const other = await new jose.SignJWT({}).setProtectedHeader({ alg: 'EdDSA', kid: km.signingKey().kid }).sign(ed.privateKey);
      await expect(jose.jwtVerify(other, km.getVerificationKey)).rejects.toThrow(jose.errors.JOSEAlgNotAllowed);
    });

    it('HS256 mode: the secret comes from configuration, never the database, and the JWKS is empty', async () => {
      const store = await openMigrated();
      const km = await manager(store, { alg: 'HS256', hs256Secret: HS_SECRET });
      expect(km.jwks()).toEqual({ keys: [] });
      expect(km.signingKey()).toMatchObject({ alg: 'HS256', kid: hs256Kid(HS_SECRET) });
      const rows = await store.db.selectFrom('signingKeys').selectAll().execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ kid: hs256Kid(HS_SECRET), alg: 'HS256', privateSealed: HS256_MARKER, state: 'current' });
      expect(JSON.stringify(rows)).not.toContain(HS_SECRET);
      expect((await verify(km, await signWith(km))).protectedHeader.kid).toBe(hs256Kid(HS_SECRET));
      await expect(km.rotate()).rejects.toThrow(TypeError);
      await manager(store, { alg: 'HS256', hs256Secret: HS_SECRET });
      expect(await store.listSigningKeys()).toHaveLength(1);
    });
  });
}

describe('HS256 configuration', () => {
  it('refuses a secret shorter than 32 bytes', () => {
    const store = { listSigningKeys: async () => [], insertSigningKey: async () => undefined, rotateSigningKeys: async () => undefined, bootstrapSigningKeys: async () => false };
    expect(() => new KeyManager(store, box, { alg: 'HS256', hs256Secret: 'short' })).toThrow(TypeError);
    expect(() => new KeyManager(store, box, { alg: 'HS256' })).toThrow(TypeError);
  });
});

describe('loadKeyEncryptionKey', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tessera-kek-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('takes a base64url 32-byte key from the environment', async () => {
    const key = randomBytes(32);
    const got = await loadKeyEncryptionKey({ TESSERA_KEY_ENCRYPTION_KEY: key.toString('base64url'), TESSERA_DATA_DIR: dir });
    expect(got).toEqual({ key, source: 'env' });
    await expect(loadKeyEncryptionKey({ TESSERA_KEY_ENCRYPTION_KEY: 'too-short', TESSERA_DATA_DIR: dir })).rejects.toThrow(TypeError);
  });

  it('generates <dataDir>/kek.key with mode 0600 on first start, then reads it', async () => {
    const dataDir = path.join(dir, 'first', 'nested');
    const first = await loadKeyEncryptionKey({ TESSERA_DATA_DIR: dataDir });
    expect(first.source).toBe('generated');
    expect(first.key).toHaveLength(32);
    expect((await stat(path.join(dataDir, 'kek.key'))).mode & 0o777).toBe(0o600);
    const second = await loadKeyEncryptionKey({ TESSERA_DATA_DIR: dataDir });
    expect(second).toEqual({ key: first.key, source: 'file' });
  });

  it('processes starting at once agree on one key', async () => {
    const dataDir = path.join(dir, 'race');
    const got = await Promise.all(Array.from({ length: 8 }, () => loadKeyEncryptionKey({ TESSERA_DATA_DIR: dataDir })));
    expect(got.filter((g) => g.source === 'generated')).toHaveLength(1);
    for (const g of got) expect(g.key.equals(got[0].key)).toBe(true);
    expect((await readFile(path.join(dataDir, 'kek.key'), 'utf8')).trim()).toBe(got[0].key.toString('base64url'));
  });

  it('refuses a corrupt key file instead of replacing it', async () => {
    const dataDir = path.join(dir, 'corrupt');
    await loadKeyEncryptionKey({ TESSERA_DATA_DIR: dataDir });
    await writeFile(path.join(dataDir, 'kek.key'), 'not a key\n');
    await expect(loadKeyEncryptionKey({ TESSERA_DATA_DIR: dataDir })).rejects.toThrow(/32 bytes/);
  });
});
