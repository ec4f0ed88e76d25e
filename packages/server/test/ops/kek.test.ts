/**
 * The key-encryption key is verified against the database before anything is migrated or sealed: a node
 * with another deployment's key, or with none on a database that holds keys, refuses to start with a
 * message naming TESSERA_KEY_ENCRYPTION_KEY and where its key came from, and writes no key file.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer } from '../support/process.js';
import { PG_URL, hasPostgres } from '../support/services.js';

const kek = () => randomBytes(32).toString('base64url');

async function startFails(env: Record<string, string>): Promise<string> {
  try {
    const s = await spawnServer(env);
    await s.stop();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('tessera serve started although it should have refused');
}

describe.skipIf(!hasPostgres)('key-encryption key guard (PostgreSQL)', () => {
  const schema = `kek_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
  const url = `${PG_URL}?schema=${schema}`;
  const key = kek();
  let dir: string;
  let client: pg.Client;
  const migrations = async () => (await client.query(`select name from ${schema}.kysely_migration order by name`)).rows.map((r: { name: string }) => r.name);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tessera-kek-'));
    client = new pg.Client(PG_URL);
    await client.connect();
    const first = await spawnServer({ TESSERA_DATABASE_URL: url, TESSERA_KEY_ENCRYPTION_KEY: key, TESSERA_DATA_DIR: path.join(dir, 'a') });
    await first.stop();
  });
  afterAll(async () => {
    await client?.query(`drop schema if exists ${schema} cascade`);
    await client?.end();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores a check value that reveals nothing of the key', async () => {
    const { rows } = await client.query(`select value from ${schema}.kek_check`);
    expect(rows).toHaveLength(1);
    expect(rows[0].value).toMatch(/^v1\.[A-Za-z0-9_-]{43}$/);
    expect(rows[0].value).not.toContain(key);
  });

  it('a wrong key: exits non-zero with the message, and the database is untouched', async () => {
    const before = await migrations();
    const out = await startFails({ TESSERA_DATABASE_URL: url, TESSERA_KEY_ENCRYPTION_KEY: kek(), TESSERA_DATA_DIR: path.join(dir, 'b') });
    expect(out).toMatch(/exited \(1\)/);
    expect(out).toContain('TESSERA_KEY_ENCRYPTION_KEY');
    expect(out).toContain('from the environment');
    expect(out).not.toMatch(/unable to authenticate data/);
    expect(await migrations()).toEqual(before);
  });

  it('no key on a database that holds keys: exits non-zero with the message, and no key file is written', async () => {
    const data = path.join(dir, 'c');
    const out = await startFails({ TESSERA_DATABASE_URL: url, TESSERA_DATA_DIR: data });
    expect(out).toMatch(/exited \(1\)/);
    expect(out).toContain('TESSERA_KEY_ENCRYPTION_KEY');
    expect(out).toContain('no key was generated');
    expect(existsSync(path.join(data, 'kek.key'))).toBe(false);
  });

  it('a database from before check values: the key is tried on a sealed key before migrating', async () => {
    // back to the schema of a release before check values: every later migration undone
    for (const table of ['kek_check', 'oauth_clients', 'oauth_codes', 'oauth_consents', 'oauth_sessions', 'oauth_id_keys', 'oauth_logout_deliveries', 'oauth_backchannel_cursor', 'email_verifications', 'email_changes']) {
      await client.query(`drop table ${schema}.${table}`);
    }
    await client.query(`alter table ${schema}.users drop column email_verified_at, drop column legacy, drop column disabled_at`);
    await client.query(`drop index ${schema}.users_created_at`);
    for (const index of ['refresh_tokens_used_at', 'sessions_revoked_at', 'sessions_last_seen_at', 'password_resets_expires_at', 'events_created_at']) {
      await client.query(`drop index ${schema}.${index}`);
    }
    await client.query(`delete from ${schema}.kysely_migration where name >= '0003'`);
    const out = await startFails({ TESSERA_DATABASE_URL: url, TESSERA_KEY_ENCRYPTION_KEY: kek(), TESSERA_DATA_DIR: path.join(dir, 'd') });
    expect(out).toContain('TESSERA_KEY_ENCRYPTION_KEY');
    expect(out).toContain('does not open this database');
    // refused before migrating: the pending migration did not run
    expect(await migrations()).not.toContain('0003_kek_check');
    // the right key then migrates and records the check value
    const ok = await spawnServer({ TESSERA_DATABASE_URL: url, TESSERA_KEY_ENCRYPTION_KEY: key, TESSERA_DATA_DIR: path.join(dir, 'e') });
    await ok.stop();
    expect(await migrations()).toContain('0003_kek_check');
    expect((await client.query(`select count(*)::int as n from ${schema}.kek_check`)).rows[0].n).toBe(1);
  });

  it('a file key names its file in the message', async () => {
    const data = path.join(dir, 'f');
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(data, { recursive: true });
    await writeFile(path.join(data, 'kek.key'), `${kek()}\n`, { mode: 0o600 });
    const out = await startFails({ TESSERA_DATABASE_URL: url, TESSERA_DATA_DIR: data });
    expect(out).toContain(`from the file ${path.join(data, 'kek.key')}`);
    expect(out).toContain('TESSERA_KEY_ENCRYPTION_KEY');
  });
});
