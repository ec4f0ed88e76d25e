/**
 * A pg pool for Kysely that runs the statements compiledOnce built as named prepared statements: pg parses
 * each once per connection and PostgreSQL keeps its plan, so a hot statement skips parse and plan on every
 * later call (the refresh rotation's CTE costs more to plan than to run). Everything else goes through as
 * before. PostgreSQL re-plans a prepared statement itself when a table it names changes (migrations); the
 * selected columns are named (compiled.ts), so an added column leaves its result type alone.
 */
import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';
import { preparedName } from '../sql/compiled.js';
import { errorCode } from './dialect.js';

/** a migration changed the type of a column a prepared statement returns: it fails on this connection for good */
const RESULT_TYPE_CHANGED = /cached plan must not change result type/;
/** the statement this connection prepared is gone: a pooler in between hands out other server connections */
const NO_SUCH_STATEMENT = '26000';

export function preparingPool(pool: pg.Pool): PostgresPool {
  // one wrapper per pooled client: Kysely keeps its connection object per client identity
  const wrapped = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const state = { prepare: true };
  return {
    async connect() {
      const client = await pool.connect();
      let w = wrapped.get(client);
      if (w === undefined) {
        w = preparing(client, state);
        wrapped.set(client, w);
      }
      return w;
    },
    end: () => pool.end(),
  };
}

function preparing(client: pg.PoolClient, state: { prepare: boolean }): PostgresPoolClient {
  let stale = false;
  // That query fails; the pool replaces the connection (and, behind a pooler that loses prepared
  // statements, this node stops preparing), so the next one succeeds.
  const forget = (err: unknown): never => {
    const lost = errorCode(err) === NO_SUCH_STATEMENT;
    if (lost) state.prepare = false;
    if (lost || (err instanceof Error && RESULT_TYPE_CHANGED.test(err.message))) stale = true;
    throw err;
  };
  function query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  function query(sqlOrCursor: string | PostgresCursor<unknown>, parameters?: ReadonlyArray<unknown>): unknown {
    if (typeof sqlOrCursor !== 'string') return client.query(sqlOrCursor as never);
    const values = parameters as unknown[];
    const name = state.prepare ? preparedName(sqlOrCursor) : undefined;
    return name === undefined ? client.query(sqlOrCursor, values) : client.query({ name, text: sqlOrCursor, values }).catch(forget);
  }
  return { query, release: (destroy?: boolean) => client.release(destroy === true || stale) };
}
