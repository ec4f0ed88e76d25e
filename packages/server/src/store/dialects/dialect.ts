/**
 * What a database must provide beyond portable Kysely: every difference between SQLite, PostgreSQL and
 * MySQL/MariaDB lives behind this interface, one small file per database (sqlite.ts, postgres.ts,
 * mysql.ts). The SQL per area (store/sql/) and the migrations use only this and portable Kysely.
 */
import type { ColumnDataType, ColumnDefinitionBuilder, CreateTableBuilder, InsertResult, RawBuilder, Kysely, LogConfig, MigrationProvider, UpdateResult } from 'kysely';
import type { DialectName } from '../ports/maintenance.js';
import type { Database, Db } from '../sql/tables.js';

export interface OpenStoreOptions {
  /** PostgreSQL only: schema to create if missing and to use as search_path on every pooled connection */
  pgSchema?: string;
  /** Kysely query logging (levels or a function) */
  log?: LogConfig;
  /** PostgreSQL and MySQL: pool size (default 10) */
  pgPoolMax?: number;
  /** receives start-up warnings about the database's surroundings (e.g. a SQLite folder others can read) */
  warn?: (message: string) => void;
}

/** a guarded UPDATE, written once by the caller, run with or without RETURNING by the dialect */
export interface GuardedUpdate<O> {
  /** the UPDATE … RETURNING the wanted columns: one statement */
  returning(db: Db): Promise<O | undefined>;
  /** the same UPDATE without RETURNING */
  update(db: Db): Promise<UpdateResult>;
  /** reads back what the UPDATE changed; runs in the UPDATE's transaction, after it */
  read(db: Db): Promise<O | undefined>;
}

/** an INSERT into a table with an auto-incrementing key */
export interface SerialInsert {
  /** the INSERT … RETURNING the key */
  returning(db: Db): Promise<number>;
  /** the same INSERT; the driver reports the key as insertId */
  plain(db: Db): Promise<InsertResult>;
}

/** the names `exclusive` serializes on */
export type LockName = 'revocations' | 'signing_keys';

/** a column type: a Kysely name or raw SQL (`varchar(255)`) */
export type DataTypeExpression = ColumnDataType | RawBuilder<unknown>;

/** a unique index, by its name and by the columns as SQLite reports them ("users.email") */
export interface UniqueIndex {
  name: string;
  columns: string;
}

/** how a foreign-key column is constrained itself */
export type ReferenceKind = 'not null' | 'null' | 'primary key';

/** column types and table options for the migrations */
export interface SchemaTypes {
  /** epoch milliseconds (and other integers that may exceed 32 bits) */
  time: DataTypeExpression;
  /** a string that is a key or indexed: ids, emails, hashes, short enums */
  key: DataTypeExpression;
  /** an indexed string that may be long (WebAuthn credential ids) */
  longKey: DataTypeExpression;
  /** CREATE INDEX … WHERE (PostgreSQL, SQLite; not MySQL/MariaDB) */
  partialIndexes: boolean;
  /** CREATE TABLE with the dialect's table options */
  createTable(db: Kysely<unknown>, name: string): CreateTableBuilder<string, never>;
  /** adds an auto-incrementing bigint primary key */
  serial(tb: CreateTableBuilder<string, never>, column: string): CreateTableBuilder<string, string>;
  /** adds a key column referencing `target` ("table.column"), deleted with its parent row */
  reference(tb: CreateTableBuilder<string, string>, table: string, column: string, target: string, kind: ReferenceKind): CreateTableBuilder<string, string>;
}

export interface SqlDialect {
  readonly name: DialectName;
  readonly schema: SchemaTypes;
  /** brings the schema to the latest migration, excluding concurrent migrators (other processes too) */
  migrate(db: Kysely<unknown>, provider: MigrationProvider): Promise<void>;
  /** consume once / guarded increment: the row the guarded UPDATE changed, undefined when it matched none */
  updateReturning<O>(db: Db, q: GuardedUpdate<O>): Promise<O | undefined>;
  /** runs an INSERT and returns the generated key */
  insertSerial(db: Db, q: SerialInsert): Promise<number>;
  /**
   * Runs `fn` in one transaction that no other `exclusive(name)` overlaps, on any node, until it commits:
   * the revocation feed's order (cursor n+1 never commits before n) and key rotation rely on it.
   */
  exclusive<T>(db: Db, name: LockName, fn: (trx: Db) => Promise<T>): Promise<T>;
  /** true for a unique violation; of `index` only, when given */
  isUniqueViolation(err: unknown, index?: UniqueIndex): boolean;
  /** true when the database is unreachable or refusing connections (the HTTP edge answers 503) */
  isUnavailable(err: unknown): boolean;
  /** housekeeping batches pick their rows with FOR UPDATE SKIP LOCKED (false on SQLite: one writer anyway) */
  readonly skipLocked: boolean;
  /** INSERT/UPDATE inside WITH, so several writes run as one statement (PostgreSQL; not SQLite, not MySQL/MariaDB) */
  readonly writableCte: boolean;
  /**
   * One short write transaction for a housekeeping batch: READ COMMITTED where the database has it (no gap
   * locks held against new rows), BEGIN IMMEDIATE on SQLite (the write lock first, so no deferred upgrade fails).
   */
  batchTransaction<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T>;
  /** gives freed pages back after pruning (SQLite: WAL checkpoint and incremental vacuum; the others purge on their own) */
  compact(db: Db): Promise<void>;
}

export interface OpenedDatabase {
  db: Kysely<Database>;
  dialect: SqlDialect;
}

/** socket-level failures every networked driver reports the same way */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

export function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

export function isNetworkError(err: unknown): boolean {
  const code = errorCode(err);
  if (code !== undefined && NETWORK_CODES.has(code)) return true;
  // an AggregateError (several addresses tried) carries the socket errors inside
  const inner = typeof err === 'object' && err !== null ? (err as { errors?: unknown }).errors : undefined;
  return Array.isArray(inner) && inner.some((e) => isNetworkError(e));
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

export function constrain(c: ColumnDefinitionBuilder, kind: ReferenceKind): ColumnDefinitionBuilder {
  if (kind === 'primary key') return c.primaryKey();
  return kind === 'not null' ? c.notNull() : c;
}

/** the migrator reports failures as `unknown` */
export function migrationError(e: unknown): Error {
  return e instanceof Error ? e : new Error('migration failed', { cause: e });
}
