/** The store contract on PostgreSQL (a schema per open, dropped after), plus what only PostgreSQL has. */
import { setTimeout as sleep } from 'node:timers/promises';
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
      // the housekeeping indexes on columns null for every live row keep only the set values (0008)
      const ix = await sql<{ indexname: string; indexdef: string }>`select indexname, indexdef from pg_indexes where schemaname = ${schema} and indexname in ('sessions_revoked_at', 'refresh_tokens_used_at') order by indexname`.execute(a.db.withoutPlugins());
      expect(ix.rows.map((x) => [x.indexname, /WHERE \((revoked_at|used_at) IS NOT NULL\)/.test(x.indexdef)])).toEqual([['refresh_tokens_used_at', true], ['sessions_revoked_at', true]]);
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

  // A restart (or pg_terminate_backend) sends 57P01 to every connection, including one a request holds:
  // without an error listener on it, that event would crash the whole process.
  it('a backend terminated under a checked-out connection (57P01) fails that query, not the process; the pool recovers', async () => {
    const schema = freshPgSchema();
    schemas.push(schema);
    const s = await openSqlStore(PG_URL, { pgSchema: schema });
    try {
      const failed = await s.db.connection().execute(async (conn) => {
        const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(conn)).rows[0].pid;
        await sql`select pg_terminate_backend(${pid})`.execute(s.db);
        await sleep(300); // the termination arrives while the connection is checked out and idle
        return sql`select 1`.execute(conn).then(
          () => new Error('the terminated connection still answered'),
          (err: unknown) => err,
        );
      });
      expect(s.isUnavailable(failed)).toBe(true);
      await expect(s.ping()).resolves.toBeUndefined();
    } finally {
      await s.close();
    }
  });

  it('reports a refused connection as unavailable (the edge answers 503), and nothing else', async () => {
    const s = await openStore('postgres://postgres@127.0.0.1:1/test');
    try {
      const down = await s.ping().then(
        () => new Error('connected to port 1'),
        (err: unknown) => err,
      );
      expect(s.isUnavailable(down)).toBe(true);
      expect(s.isUnavailable(new Error('syntax error'))).toBe(false);
      expect(s.isUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    } finally {
      await s.close();
    }
  });
});
