/**
 * PostgreSQL over pg. A guarded `UPDATE … WHERE used_at IS NULL RETURNING` is re-evaluated on the latest row
 * version after a concurrent writer commits, so two racers can never both match. `?schema=NAME` in the URL
 * (or `pgSchema`) selects, and creates, a schema, so several deployments can share one database.
 */
import { CamelCasePlugin, Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import type { MigrationProvider } from 'kysely';
import pg from 'pg';
import type { Database, Db } from '../sql/tables.js';
import { constrain, errorCode, migrationError, isNetworkError } from './dialect.js';
import { preparingPool } from './pg-prepared.js';
import type { LockName, OpenStoreOptions, OpenedDatabase, SqlDialect } from './dialect.js';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const LOCKED: Record<LockName, string> = { revocations: 'revocations', signing_keys: 'signing_keys' };

/** admin shutdown, crash shutdown, cannot connect now, too many connections */
const UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '53300']);
const POOL_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|not queryable|Connection refused/i;

export function postgresDialect(schema: string | undefined): SqlDialect {
  return {
    name: 'postgres',
    schema: {
      time: 'bigint',
      key: 'text',
      longKey: 'text',
      createTable: (db, name) => db.schema.createTable(name),
      serial: (tb, column) => tb.addColumn(column, 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity()),
      reference: (tb, _table, column, target, kind) =>
        tb.addColumn(column, 'text', (c) => constrain(c, kind).references(target).onDelete('cascade')),
    },
    // Kysely's migrator holds a session advisory lock around the migration transaction, so concurrent
    // processes wait for each other; its tables go in the selected schema (checked there by name).
    async migrate(db: Kysely<unknown>, provider: MigrationProvider) {
      let inSchema = schema;
      if (inSchema === undefined) inSchema = (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]?.s;
      const { error } = await new Migrator({ db, provider, migrationTableSchema: inSchema }).migrateToLatest();
      if (error) throw migrationError(error);
    },
    updateReturning: (db, q) => q.returning(db),
    insertSerial: (db, q) => q.returning(db),
    // READ COMMITTED hands out sequence values before commit and lets racing rotations each shift their own
    // snapshot of states; the table lock serializes writers while plain readers go on.
    exclusive: <T>(db: Db, name: LockName, fn: (trx: Db) => Promise<T>) =>
      db.transaction().execute(async (trx) => {
        await sql`lock table ${sql.raw(LOCKED[name])} in share row exclusive mode`.execute(trx);
        return fn(trx);
      }),
    isUniqueViolation(err, index) {
      if (errorCode(err) !== '23505') return false;
      return index === undefined || (err as { constraint?: unknown }).constraint === index.name;
    },
    skipLocked: true,
    writableCte: true,
    batchTransaction: <T>(db: Db, fn: (trx: Db) => Promise<T>) => db.transaction().setIsolationLevel('read committed').execute(fn),
    // autovacuum reclaims the deleted rows' space for reuse
    compact: async () => undefined,
    isUnavailable(err) {
      const code = errorCode(err);
      if (code !== undefined && (UNAVAILABLE.has(code) || code.startsWith('08'))) return true;
      if (isNetworkError(err)) return true;
      return err instanceof Error && POOL_MESSAGES.test(err.message);
    },
  };
}

export async function openPostgres(rawUrl: string, opts: OpenStoreOptions): Promise<OpenedDatabase> {
  const parsed = new URL(rawUrl);
  const fromUrl = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  const schema = opts.pgSchema ?? fromUrl;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid pgSchema "${schema}": lower-case letters, digits and _ only`);
  }
  // int8 (BIGINT times, identity ids, count(*)) as numbers for this pool only; the global pg.types stay untouched
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));
  const pool = new pg.Pool({
    connectionString: parsed.toString(),
    types,
    max: opts.pgPoolMax ?? 10,
    // a startup parameter, so it is in force before the first query of every pooled connection
    ...(schema !== undefined ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client that errors (server restart) is dropped by the pool; a checked-out one emits on itself
  // (57P01 between two queries). Without these listeners either would crash the process; the failed query
  // itself still rejects, and the pool replaces the client.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: preparingPool(pool) }), log: opts.log, plugins: [new CamelCasePlugin()] });
  try {
    if (schema !== undefined) await ensureSchema(db, schema);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return { db, dialect: postgresDialect(schema) };
}

async function ensureSchema(db: Db, schema: string): Promise<void> {
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  } catch (err) {
    // two processes racing `create schema if not exists` can still hit a unique violation in pg_namespace
    const r = await sql<{ n: number }>`select count(*) as n from pg_namespace where nspname = ${schema}`.execute(db);
    if (Number(r.rows[0]?.n ?? 0) === 0) throw err;
  }
}
