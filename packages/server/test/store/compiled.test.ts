/** compiledOnce (store/sql/compiled.ts): a statement compiled once must bind every call's own values, in order. */
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openSqlStore } from '../../src/store/connect.js';
import { ARRAY_ROWS, compiledOnce, preparedName } from '../../src/store/sql/compiled.js';

describe('compiledOnce', () => {
  it('binds each call its own values, in the parameters order, a name used twice in both places', async () => {
    const store = await openSqlStore('sqlite::memory:');
    try {
      const q = compiledOnce(['b', 'a'], (p: { a: number; b: string }) => sql<{ x: number; y: string; z: number }>`select ${p.a} as x, ${p.b} as y, ${p.a} as z`.compile(store.db));
      const first = q({ a: 1, b: 'one' });
      expect(first.parameters).toEqual([1, 'one', 1]);
      expect((await store.db.executeQuery(first)).rows).toEqual([{ x: 1, y: 'one', z: 1 }]);
      expect((await store.db.executeQuery(q({ a: 2, b: 'two' }))).rows).toEqual([{ x: 2, y: 'two', z: 2 }]);
      expect(q({ a: 3, b: 'three' }).sql).toBe(first.sql);
    } finally {
      await store.close();
    }
  });

  it('refuses a query whose parameters are not all placeholders, or that drops a placeholder', async () => {
    const store = await openSqlStore('sqlite::memory:');
    try {
      // a constant among the parameters would be bound in the wrong place, or silently repeated
      const constant = compiledOnce(['id'], (p: { id: string }) => store.db.selectFrom('users').select('id').where('id', '=', p.id).where('email', '=', 'fixed').compile());
      expect(() => constant({ id: 'x' })).toThrow(/not a placeholder/);
      // a value turned into SQL text would be the first call's value forever
      const literal = compiledOnce(['a', 'b'], (p: { a: string; b: string }) => sql`select ${sql.lit(p.a)}, ${p.b}`.compile(store.db));
      expect(() => literal({ a: 'x', b: 'y' })).toThrow(/not a parameter/);
    } finally {
      await store.close();
    }
  });

  it('refuses a selection by * (a prepared plan keeps its result columns, a migration would fail it) and names each text once', async () => {
    const store = await openSqlStore('sqlite::memory:');
    try {
      const star = compiledOnce(['id'], (p: { id: string }) => store.db.selectFrom('users').selectAll().where('id', '=', p.id).compile());
      expect(() => star({ id: 'x' })).toThrow(/no \*/);
      const tableStar = compiledOnce(['id'], (p: { id: string }) => store.db.selectFrom('users as u').selectAll('u').where('u.id', '=', p.id).compile());
      expect(() => tableStar({ id: 'x' })).toThrow(/no \*/);
      const build = (p: { id: string }) => sql`select count(*) as n from users where id = ${p.id}`.compile(store.db);
      const a = compiledOnce(['id'], build)({ id: 'x' });
      const b = compiledOnce(['id'], build)({ id: 'y' });
      expect(preparedName(a.sql)).toMatch(/^tessera_\d+$/);
      expect(preparedName(b.sql)).toBe(preparedName(a.sql));
      expect(preparedName('select 1')).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('on SQLite, SQL marked ARRAY_ROWS answers each row as an array in select order; the same text unmarked as objects', async () => {
    const store = await openSqlStore('sqlite::memory:');
    try {
      const q = sql<unknown>`select ${1} as b, ${'x'} as a`.compile(store.db);
      expect((await store.db.withoutPlugins().executeQuery({ ...q, sql: ARRAY_ROWS + q.sql })).rows).toEqual([[1, 'x']]);
      expect((await store.db.withoutPlugins().executeQuery(q)).rows).toEqual([{ b: 1, a: 'x' }]);
    } finally {
      await store.close();
    }
  });
});
