/**
 * MySQL and MariaDB over mysql2. MySQL has no UPDATE … RETURNING: a guarded UPDATE runs first and the changed
 * row is read back in the same transaction (InnoDB keeps the row locked until commit, so no racer can change
 * it in between); generated keys come from the driver's insertId. `mysql://user:pass@host:port/DATABASE`
 * selects, and creates, the database (utf8mb4 with binary collation: ids and hashes compare byte for byte).
 */
import { CamelCasePlugin, Kysely, Migrator, MysqlDialect, sql } from 'kysely';
import type { MigrationProvider } from 'kysely';
import { createConnection, createPool } from 'mysql2';
import type { Database, Db } from '../sql/tables.js';
import { changed } from '../sql/tables.js';
import { constrain, errorCode, migrationError, isNetworkError } from './dialect.js';
import type { LockName, OpenStoreOptions, OpenedDatabase, SqlDialect } from './dialect.js';

const DATABASE_NAME = /^[A-Za-z0-9_]{1,64}$/;
const TABLE_OPTIONS = sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin`;
const KEY = sql`varchar(255)`;
/** WebAuthn credential ids reach 1023 bytes (1364 base64url characters); 768 is InnoDB's index limit for utf8mb4 */
const LONG_KEY = sql`varchar(768)`;
const UNAVAILABLE = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'ER_CON_COUNT_ERROR',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_SERVER_SHUTDOWN',
]);
const LOCK_TIMEOUT_SEC = 30;

/** a server-wide named lock, scoped to this database so deployments sharing a server never wait on each other */
const lockName = (name: LockName) => sql`concat('tessera.', left(sha1(database()), 16), '.', ${name})`;

export const mysqlDialect: SqlDialect = {
  name: 'mysql',
  schema: {
    time: 'bigint',
    key: KEY,
    longKey: LONG_KEY,
    partialIndexes: false,
    createTable: (db, name) => db.schema.createTable(name).modifyEnd(TABLE_OPTIONS),
    serial: (tb, column) => tb.addColumn(column, 'bigint', (c) => c.primaryKey().autoIncrement()),
    // MySQL parses and ignores an inline REFERENCES: the foreign key must be a table constraint
    reference: (tb, table, column, target, kind) => {
      const [targetTable, targetColumn] = target.split('.') as [string, string];
      return tb
        .addColumn(column, KEY, (c) => constrain(c, kind))
        .addForeignKeyConstraint(`${table}_${column}_fk`, [column], targetTable, [targetColumn], (c) => c.onDelete('cascade'));
    },
  },
  // Kysely's MySQL adapter holds GET_LOCK around the migrations, so concurrent processes wait for each other
  async migrate(db: Kysely<unknown>, provider: MigrationProvider) {
    const { error } = await new Migrator({ db, provider }).migrateToLatest();
    if (error) throw migrationError(error);
  },
  updateReturning: <O>(db: Db, q: { update(db: Db): Promise<{ numUpdatedRows: bigint }>; read(db: Db): Promise<O | undefined> }) =>
    db.transaction().execute(async (trx) => (changed(await q.update(trx)) ? q.read(trx) : undefined)),
  insertSerial: async (db, q) => Number((await q.plain(db)).insertId),
  // InnoDB hands out auto-increment values before commit too, and LOCK TABLES ends a transaction: a named
  // lock held on one connection from before BEGIN until after COMMIT serializes the writers instead.
  exclusive: <T>(db: Db, name: LockName, fn: (trx: Db) => Promise<T>) =>
    db.connection().execute(async (conn) => {
      const got = await sql<{ ok: number | null }>`select get_lock(${lockName(name)}, ${LOCK_TIMEOUT_SEC}) as ok`.execute(conn);
      if (Number(got.rows[0]?.ok) !== 1) throw new Error(`timed out waiting for the ${name} lock`);
      try {
        return await conn.transaction().execute(fn);
      } finally {
        await sql`select release_lock(${lockName(name)})`.execute(conn);
      }
    }),
  isUniqueViolation(err, index) {
    if (errorCode(err) !== 'ER_DUP_ENTRY') return false;
    if (index === undefined) return true;
    const message = (err as { message?: unknown }).message;
    // MariaDB: "for key 'users_email_unique'"; MySQL 8: "for key 'users.users_email_unique'"
    return typeof message === 'string' && new RegExp(`for key '(?:\\w+\\.)?${index.name}'`).test(message);
  },
  skipLocked: true,
  writableCte: false,
  batchTransaction: <T>(db: Db, fn: (trx: Db) => Promise<T>) => db.transaction().setIsolationLevel('read committed').execute(fn),
  // InnoDB's purge thread reuses the deleted rows' pages
  compact: async () => undefined,
  isUnavailable(err) {
    const code = errorCode(err);
    if (code !== undefined && UNAVAILABLE.has(code)) return true;
    return isNetworkError(err) || (typeof err === 'object' && err !== null && (err as { fatal?: unknown }).fatal === true);
  },
};

function connectionOptions(url: URL) {
  return {
    host: url.hostname || '127.0.0.1',
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username || 'root'),
    password: decodeURIComponent(url.password),
    charset: 'utf8mb4',
    // BIGINT times and ids as numbers (all below 2^53)
    supportBigNumbers: false,
  };
}

async function ensureDatabase(url: URL, database: string): Promise<void> {
  const conn = createConnection(connectionOptions(url));
  conn.on('error', () => undefined);
  try {
    await conn.promise().query(`create database if not exists \`${database}\` character set utf8mb4 collate utf8mb4_bin`);
  } finally {
    await conn.promise().end();
  }
}

export async function openMysql(rawUrl: string, opts: OpenStoreOptions): Promise<OpenedDatabase> {
  const url = new URL(rawUrl);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!DATABASE_NAME.test(database)) throw new Error(`invalid MySQL database name "${database}": letters, digits and _ only`);
  await ensureDatabase(url, database);
  const pool = createPool({ ...connectionOptions(url), database, connectionLimit: opts.pgPoolMax ?? 10 });
  // A pooled connection whose server goes away emits 'error' on itself: never let that escape as an
  // uncaught event. The pending query still rejects, and the pool replaces the connection.
  pool.on('connection', (conn) => conn.on('error', () => undefined));
  const db = new Kysely<Database>({ dialect: new MysqlDialect({ pool }), log: opts.log, plugins: [new CamelCasePlugin()] });
  return { db, dialect: mysqlDialect };
}
