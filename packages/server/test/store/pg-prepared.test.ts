/**
 * PostgreSQL runs the statements compiledOnce built as named prepared statements (dialects/pg-prepared.ts):
 * parsed once per connection, the same rows as before, nothing else prepared, and still correct after a
 * migration changes a table they read.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openSqlStore } from '../../src/store/connect.js';
import type { SqlStore } from '../../src/store/connect.js';
import { PG_URL, hasPostgres } from '../support/services.js';
import type { RefreshTokenRow, SessionRow, UserRow } from '../../src/store/ports/index.js';
import { T0, dropPgSchemas, freshPgSchema, refresh, session, user } from '../support/store-fixtures.js';

interface Prepared {
  name: string;
  statement: string;
  runs: number;
}

/** the connection's prepared statements (one pooled connection: every call runs on it) */
async function prepared(s: SqlStore): Promise<Prepared[]> {
  const r = await sql<Prepared>`select name, statement, generic_plans + custom_plans as runs from pg_prepared_statements order by name`.execute(s.db);
  return r.rows.map((x) => ({ ...x, runs: Number(x.runs) }));
}

describe.skipIf(!hasPostgres)('PostgreSQL prepared statements', () => {
  const schemas: string[] = [];
  afterAll(() => dropPgSchemas(schemas));

  async function open(): Promise<SqlStore> {
    const schema = freshPgSchema();
    schemas.push(schema);
    const s = await openSqlStore(PG_URL, { pgSchema: schema, pgPoolMax: 1 });
    await s.migrate();
    return s;
  }

  /** a fresh store holding one user with one session and its refresh token; closed after `f` */
  async function withFamily(f: (x: { s: SqlStore; u: UserRow; ses: SessionRow; t: RefreshTokenRow }) => Promise<void>): Promise<void> {
    const s = await open();
    try {
      const u = user();
      const ses = session(u.id);
      const t = refresh(ses.id);
      await s.createUser(u);
      await s.createSession(ses);
      await s.insertRefreshToken(t);
      await f({ s, u, ses, t });
    } finally {
      await s.close();
    }
  }

  it('prepares the refresh read once per connection and returns the same family every time; nothing else is prepared', () => withFamily(async ({ s, u, ses, t }) => {
    // the plain statement (createUser) ran unprepared; the sign-in's two inserts are compiledOnce's, prepared
    const setup = await prepared(s);
    expect(setup.map((p) => [p.statement.replace(/ \(.*/, ''), p.runs])).toEqual([['insert into "sessions"', 1], ['insert into "refresh_tokens"', 1]]);
    const expected = { token: t, session: ses, user: u, oauthClientId: null };
    // more than five runs: PostgreSQL switches to a generic plan after five, the rows stay the same
    for (let i = 0; i < 7; i++) expect(await s.getRefreshFamily(t.id)).toEqual(expected);
    const [family, ...others] = (await prepared(s)).filter((p) => !setup.some((q) => q.name === p.name));
    expect(others).toEqual([]);
    expect(family).toMatchObject({ name: expect.stringMatching(/^tessera_\d+$/), runs: 7 });
    expect(family.statement).toMatch(/^select "t"\."id"/);
    expect(await s.getRefreshFamily('rt_missing')).toBeUndefined();
  }));

  it('rotates through the prepared statement: the first rotation wins, the second finds the token used', () => withFamily(async ({ s, ses, t }) => {
    const rotation = (successorId: string) => ({
      id: t.id,
      usedAt: T0 + 1,
      usedBy: 'fp',
      successor: refresh(ses.id, { id: successorId, parentId: t.id, createdAt: T0 + 1 }),
      successorSealed: null,
      touch: { lastSeenAt: T0 + 1, ip: '198.51.100.7', geo: null, userAgent: 'next' },
    });
    expect(await s.rotateRefreshToken(rotation('rt_first'))).toBe(true);
    expect(await s.rotateRefreshToken(rotation('rt_second'))).toBe(false);
    expect((await s.listRefreshTokens(ses.id)).map((r) => r.id).sort()).toEqual(['rt_first', t.id].sort());
    expect(await s.getSession(ses.id)).toMatchObject({ lastSeenAt: T0 + 1, ip: '198.51.100.7', userAgent: 'next' });
    const rotate = (await prepared(s)).find((p) => p.statement.includes('with used as'));
    expect(rotate?.runs).toBe(2);
  }));

  // A rolling deploy: another node migrates while this one holds prepared statements. Named columns (no *)
  // keep the cached plans' result type, so PostgreSQL re-plans them quietly instead of failing.
  it('keeps working on the same connection after a migration adds columns to the tables it reads', () => withFamily(async ({ s, ses, t }) => {
    const family = await s.getRefreshFamily(t.id);
    const principal = await s.getPrincipal(ses.id);
    expect(principal?.session).toEqual(ses);
    for (const table of ['refresh_tokens', 'sessions', 'users']) await sql`alter table ${sql.id(table)} add column later text`.execute(s.db);
    expect(await s.getRefreshFamily(t.id)).toEqual(family);
    expect(await s.getPrincipal(ses.id)).toEqual(principal);
  }));

  // A column whose type a migration changes fails the cached plan on the connection that holds it: that one
  // call fails, the connection is dropped, and the next call prepares afresh on a new one.
  it('replaces a connection whose prepared statement a column type change broke', () => withFamily(async ({ s, t }) => {
    const family = await s.getRefreshFamily(t.id);
    const before = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(s.db)).rows[0].pid;
    await sql`alter table refresh_tokens alter column secret_hash type varchar(200)`.execute(s.db);
    await expect(s.getRefreshFamily(t.id)).rejects.toThrow(/cached plan must not change result type/);
    expect(await s.getRefreshFamily(t.id)).toEqual(family);
    expect((await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(s.db)).rows[0].pid).not.toBe(before);
  }));

  // PgBouncer in transaction mode before 1.21 runs each statement on any server connection: the statement
  // this connection prepared is not there. One call fails, then the node runs its statements unprepared.
  it('stops preparing when a prepared statement goes missing (a pooler that does not keep them)', () => withFamily(async ({ s, u, ses, t }) => {
    const family = await s.getRefreshFamily(t.id);
    await sql`deallocate all`.execute(s.db);
    await expect(s.getRefreshFamily(t.id)).rejects.toMatchObject({ code: '26000' });
    expect(await s.getRefreshFamily(t.id)).toEqual(family);
    expect(await s.getPrincipal(ses.id)).toMatchObject({ session: ses, user: u });
    expect(await prepared(s)).toEqual([]);
  }));
});
