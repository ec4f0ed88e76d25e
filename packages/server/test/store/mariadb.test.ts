/** The store contract on MariaDB (a database per open, dropped after), plus what only MySQL/MariaDB has. */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openSqlStore, openStore } from '../../src/store/connect.js';
import { MYSQL_URL, hasMysql } from '../support/services.js';
import { dropMysqlDatabases, freshMysqlDatabase, mariadbBackend, user } from '../support/store-fixtures.js';
import { describeStoreContract } from './contract.js';
import { MIGRATIONS } from './contract/constants.js';

const backend = mariadbBackend();
describeStoreContract(backend.name, backend.open, backend);

describe.skipIf(!hasMysql)('MariaDB specifics', () => {
  const databases: string[] = [];
  afterAll(() => dropMysqlDatabases(databases));

  it('refuses a database name that is not a plain identifier (no SQL through the name)', async () => {
    await expect(openStore(`${MYSQL_URL}/x%60;drop`)).rejects.toThrow(/invalid MySQL database name/);
  });

  it('creates the database; two concurrent migrate() both succeed, once, with binary collation', async () => {
    const database = freshMysqlDatabase();
    databases.push(database);
    const [a, b] = await Promise.all([openSqlStore(`${MYSQL_URL}/${database}`), openSqlStore(`mariadb://${MYSQL_URL.slice('mysql://'.length)}/${database}`)]);
    try {
      await Promise.all([a.migrate(), b.migrate()]);
      const r = await sql<{ n: number }>`select count(*) as n from kysely_migration`.execute(a.db);
      expect(Number(r.rows[0].n)).toBe(MIGRATIONS);
      // ids and hashes compare byte for byte: a case-folded id must not find another row
      const u = user({ id: 'usr_AbC', email: 'case@example.test' });
      expect(await b.createUser(u)).toBe(true);
      expect(await a.getUserById('usr_abc')).toBeUndefined();
      expect(await a.createUser(user({ email: 'CASE@example.test' }))).toBe(true);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('reports a refused connection as unavailable (the edge answers 503), and nothing else', async () => {
    const database = freshMysqlDatabase();
    databases.push(database);
    const s = await openStore(`${MYSQL_URL}/${database}`);
    try {
      const down = await openStore('mysql://root@127.0.0.1:1/none').then(
        () => new Error('connected to port 1'),
        (err: unknown) => err,
      );
      expect(s.isUnavailable(down)).toBe(true);
      expect(s.isUnavailable(new Error('syntax error'))).toBe(false);
    } finally {
      await s.close();
    }
  });

  // A server restart (or KILL) drops every connection, including one a request holds: that must fail the
  // request's query and leave the process and the pool working.
  it('a connection killed while checked out fails that query, not the process; the pool recovers', async () => {
    const database = freshMysqlDatabase();
    databases.push(database);
    const s = await openSqlStore(`${MYSQL_URL}/${database}`);
    try {
      const failed = await s.db.connection().execute(async (conn) => {
        const id = (await sql<{ id: number }>`select connection_id() as id`.execute(conn)).rows[0].id;
        await sql`kill ${sql.raw(String(Number(id)))}`.execute(s.db);
        await sleep(300); // the close arrives while the connection is checked out and idle
        return sql`select 1`.execute(conn).then(
          () => new Error('the killed connection still answered'),
          (err: unknown) => err,
        );
      });
      expect(s.isUnavailable(failed)).toBe(true);
      await expect(s.ping()).resolves.toBeUndefined();
    } finally {
      await s.close();
    }
  });
});
