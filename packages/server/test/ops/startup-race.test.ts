/**
 * Two nodes started at the same instant on an empty database: migrations run once (a database lock), one
 * current signing key exists, and both publish the same JWKS from their first answer on.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer } from '../support/process.js';
import { PG_URL, hasPostgres } from '../support/services.js';

const ROUNDS = 10;

describe.skipIf(!hasPostgres)('nodes starting together on an empty PostgreSQL database', () => {
  let client: pg.Client;
  let dir: string;
  const schemas: string[] = [];
  beforeAll(async () => {
    client = new pg.Client(PG_URL);
    await client.connect();
    dir = await mkdtemp(path.join(tmpdir(), 'tessera-race-'));
  });
  afterAll(async () => {
    for (const s of schemas) await client.query(`drop schema if exists ${s} cascade`);
    await client?.end();
    await rm(dir, { recursive: true, force: true });
  });

  it(`${ROUNDS} times: one migration run, one current key, identical JWKS on both at once`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const schema = `race_${Date.now().toString(36)}_${round}`;
      schemas.push(schema);
      const env = { TESSERA_DATABASE_URL: `${PG_URL}?schema=${schema}`, TESSERA_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url') };
      const nodes = await Promise.all(['a', 'b'].map((n) => spawnServer({ ...env, TESSERA_DATA_DIR: path.join(dir, `${round}${n}`) }, undefined, { startTimeoutMs: 90_000 })));
      try {
        const jwks = await Promise.all(nodes.map(async (n) => (await fetch(`${n.url}/.well-known/jwks.json`)).json()));
        expect(jwks[0]).toEqual(jwks[1]);
        const migrations = await client.query(`select name, timestamp from ${schema}.kysely_migration order by name`);
        expect(migrations.rows.map((r: { name: string }) => r.name)).toEqual(['0001_initial', '0002_mfa_sms', '0003_kek_check', '0004_oauth', '0005_email_verification', '0006_account_lifecycle', '0007_housekeeping_indexes', '0008_partial_housekeeping_indexes']);
        const keys = await client.query(`select state, count(*)::int as n from ${schema}.signing_keys group by state order by state`);
        expect(keys.rows).toEqual([{ state: 'current', n: 1 }, { state: 'next', n: 1 }]);
      } finally {
        await Promise.all(nodes.map((n) => n.stop()));
      }
    }
  }, 900_000);
});
