/**
 * SQLite over better-sqlite3: one connection per process. Kysely's SqliteDriver holds a mutex on it from
 * BEGIN to COMMIT, so transactions of concurrent async callers are serialized rather than interleaved;
 * across processes, BEGIN IMMEDIATE takes the file's write lock first (others wait up to busy_timeout).
 */
import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { CamelCasePlugin, Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import type { MigrationProvider, SqliteDatabase as KyselySqlite } from 'kysely';
import { ARRAY_ROWS } from '../sql/compiled.js';
import type { Database, Db } from '../sql/tables.js';
import { constrain, errorCode, migrationError } from './dialect.js';
import { startCheckpointer } from './sqlite-checkpointer.js';
import type { Checkpointer } from './sqlite-checkpointer.js';
import type { OpenStoreOptions, OpenedDatabase, SqlDialect } from './dialect.js';

async function immediate<T>(db: Kysely<unknown> | Db, fn: (conn: Kysely<unknown> | Db) => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const out = await fn(conn);
      await sql`commit`.execute(conn);
      return out;
    } catch (err) {
      await sql`rollback`.execute(conn);
      throw err;
    }
  });
}

export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  schema: {
    time: 'integer',
    key: 'text',
    longKey: 'text',
    partialIndexes: true,
    createTable: (db, name) => db.schema.createTable(name),
    serial: (tb, column) => tb.addColumn(column, 'integer', (c) => c.primaryKey().autoIncrement()),
    reference: (tb, _table, column, target, kind) =>
      tb.addColumn(column, 'text', (c) => constrain(c, kind).references(target).onDelete('cascade')),
  },
  // Kysely's SQLite adapter takes no lock and its deferred BEGIN lets two processes both read "not
  // migrated" then fail on write, so the migrator runs on one connection inside BEGIN IMMEDIATE.
  async migrate(db: Kysely<unknown>, provider: MigrationProvider) {
    await immediate(db, async (conn) => {
      const { error } = await new Migrator({ db: conn as Kysely<unknown>, provider, disableTransactions: true }).migrateToLatest();
      if (error) throw migrationError(error);
    });
  },
  updateReturning: (db, q) => q.returning(db),
  insertSerial: (db, q) => q.returning(db),
  exclusive: <T>(db: Db, _name: string, fn: (trx: Db) => Promise<T>) => immediate(db, (conn) => fn(conn as Db)),
  isUniqueViolation(err, index) {
    const code = errorCode(err);
    if (code !== 'SQLITE_CONSTRAINT_UNIQUE' && code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') return false;
    if (index === undefined) return true;
    const message = (err as { message?: unknown }).message;
    return typeof message === 'string' && message.endsWith(`: ${index.columns}`);
  },
  skipLocked: false,
  writableCte: false,
  batchTransaction: <T>(db: Db, fn: (trx: Db) => Promise<T>) => immediate(db, (conn) => fn(conn as Db)),
  // PASSIVE never waits for readers; incremental_vacuum frees pages only where auto_vacuum is INCREMENTAL
  // (new files; see docs/operations.md for older ones), otherwise SQLite reuses the freed pages itself
  async compact(db: Db) {
    await sql`pragma wal_checkpoint(passive)`.execute(db);
    await sql`pragma incremental_vacuum(2000)`.execute(db);
  },
  // locked past busy_timeout by another process, or the file cannot be opened or written
  isUnavailable: (err) => /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL)/.test(errorCode(err) ?? ''),
};

/**
 * The database file holds password hashes and sealed keys: its folder is created 0700 and the file 0600
 * (SQLite gives the -wal and -shm files the same mode), so other local users cannot read them. An existing
 * folder others can enter is left alone but reported, once, through `warn`.
 */
function prepareFile(file: string, warn: ((m: string) => void) | undefined): void {
  const dir = path.dirname(path.resolve(file));
  if (fs.existsSync(dir)) {
    const mode = fs.statSync(dir).mode & 0o777;
    if ((mode & 0o077) !== 0) warn?.(`the SQLite folder ${dir} is accessible to other users (mode ${mode.toString(8)}); 0700 is recommended`);
  } else {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  fs.chmodSync(file, 0o600);
}

/**
 * Kysely prepares every query anew (SQLite compiles the SQL each time: 10-15 % of a refresh's CPU); the
 * SQL text is a query's shape with its values bound apart, so statements can be kept and reused by text.
 * A statement still iterating a result (`busy`) is never handed out twice: a new one is prepared instead.
 * SQL marked ARRAY_ROWS (sql/compiled.ts) is answered with rows as arrays.
 */
export function withStatementCache(conn: SqliteDatabase.Database, max = 500, close: () => void = () => void conn.close()): KyselySqlite {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close,
    prepare(text: string) {
      const hit = cache.get(text);
      if (hit && !hit.busy) {
        // most recently used last: the Map's order is the eviction order
        cache.delete(text);
        cache.set(text, hit);
        return hit;
      }
      const stmt = conn.prepare(text);
      if (text.startsWith(ARRAY_ROWS)) stmt.raw(true);
      if (!hit) {
        cache.set(text, stmt);
        if (cache.size > max) cache.delete(cache.keys().next().value as string);
      }
      return stmt;
    },
  };
}

const JOURNAL_SIZE_LIMIT = 16 * 1024 * 1024;

export function openSqlite(file: string, opts: OpenStoreOptions): OpenedDatabase {
  if (file === '') throw new Error('sqlite: URL without a path: expected sqlite:PATH or sqlite::memory:');
  const memory = file === ':memory:';
  if (!memory) prepareFile(file, opts.warn);
  const conn = new SqliteDatabase(file);
  // before the first table exists (a no-op on older files): pruned pages can be given back to the OS
  conn.pragma('auto_vacuum = INCREMENTAL');
  if (!memory) conn.pragma('journal_mode = WAL');
  // after a checkpoint the WAL file is cut back to this size instead of keeping its high-water mark
  conn.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
  conn.pragma('busy_timeout = 5000');
  conn.pragma('foreign_keys = ON');
  conn.pragma('synchronous = NORMAL');
  const database = withStatementCache(conn, undefined, memory ? undefined : closeWithCheckpointer(conn, startCheckpointer(conn, file, { journalSizeLimit: JOURNAL_SIZE_LIMIT, warn: opts.warn })));
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }), log: opts.log, plugins: [new CamelCasePlugin()] });
  return { db, dialect: sqliteDialect };
}

/**
 * The worker's thread ends with the store (it never keeps the process alive either way) and its connection
 * closes first; a last PASSIVE checkpoint moves what it had not yet moved (useful when another process
 * keeps the file open), and the serving connection, closing last, checkpoints and removes the WAL. A WAL
 * left behind (a process that exits first) is still consistent: SQLite replays it on the next open.
 */
function closeWithCheckpointer(conn: SqliteDatabase.Database, checkpointer: Checkpointer): () => void {
  return () => {
    checkpointer.stop();
    try {
      conn.pragma('wal_checkpoint(PASSIVE)');
    } finally {
      conn.close();
    }
  };
}
