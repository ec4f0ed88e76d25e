/** The store contract on PostgreSQL (a schema per open, dropped after), plus what only PostgreSQL has. */
import { afterAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import pg from 'pg';
import { openSqlStore, openStore } from '../../src/store/connect.js';
import { PG_URL, hasPostgres } from '../support/services.js';
import { dropPgSchemas, freshPgSchema, postgresBackend, user } from '../support/store-fixtures.js';
import { describeStoreContract } from './contract.js';
import { MIGRATIONS } from './contract/constants.js';

const backend = postgresBackend();
describeStoreContract(backend.name, backend.open, backend);

describe.skipIf(!hasPostgres)('PostgreSQL specifics', () => {
  const schemas: string[] = [];
  afterAll(() => dropPgSchemas(schemas));

  it('refuses a pgSchema that is not a plain identifier (no SQL through the schema name)', async () => {
    await expect(openStore(PG_URL, { pgSchema: 'x; drop table users' })).rejects.toThrow(/invalid pgSchema/);
  });

  it('two concurrent migrate() on a fresh schema both succeed, and the schema holds the tables', async () => {
    const schema = freshPgSchema();
    schemas.push(schema);
    const [a, b] = await Promise.all([openSqlStore(PG_URL, { pgSchema: schema }), openSqlStore(PG_URL, { pgSchema: schema })]);
    try {
      await Promise.all([a.migrate(), b.migrate()]);
      const r = await sql<{ n: number }>`select count(*) as n from kysely_migration`.execute(a.db);
      expect(r.rows[0].n).toBe(MIGRATIONS);
      const t = await sql<{ tableName: string }>`select table_name from information_schema.tables where table_schema = ${schema}`.execute(a.db);
      expect(t.rows.map((x) => x.tableName)).toEqual(expect.arrayContaining(['users', 'sessions', 'refresh_tokens', 'events', 'revocations', 'mfa_challenges']));
      expect(await b.createUser(user())).toBe(true);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('parses int8 as numbers on its own pool only, leaving the global pg parser alone', async () => {
    const schema = freshPgSchema();
    schemas.push(schema);
    const s = await openSqlStore(PG_URL, { pgSchema: schema });
    try {
      const r = await sql<{ v: unknown }>`select 9007199254740991::int8 as v`.execute(s.db);
      expect(r.rows[0].v).toBe(Number.MAX_SAFE_INTEGER);
      expect(pg.types.getTypeParser(pg.types.builtins.INT8, 'text')('5')).toBe('5');
    } finally {
      await s.close();
    }
  });
});
