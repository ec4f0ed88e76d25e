/**
 * Opens a Store from a database URL: `sqlite:PATH`, `sqlite::memory:`, `postgres://…` / `postgresql://…`
 * or `mysql://…` / `mariadb://…`. It does not migrate: call `store.migrate()` (idempotent, safe to race
 * across processes).
 */
import { redactUrl } from './dialects/dialect.js';
import type { OpenStoreOptions, OpenedDatabase } from './dialects/dialect.js';
import { openSqlite } from './dialects/sqlite.js';
import type { Store } from './ports/index.js';
import { sqlStore } from './sql/store.js';
import type { SqlStore } from './sql/store.js';

export type { OpenStoreOptions } from './dialects/dialect.js';
export type { SqlStore } from './sql/store.js';

export async function openStore(url: string, opts: OpenStoreOptions = {}): Promise<Store> {
  return openSqlStore(url, opts);
}

/** same as openStore, with the Kysely instance exposed (tests and maintenance tools) */
export async function openSqlStore(url: string, opts: OpenStoreOptions = {}): Promise<SqlStore> {
  const { db, dialect } = await openDatabase(url, opts);
  return sqlStore(db, dialect);
}

// the networked drivers load only when their URL is used: every CLI command starts faster without them
async function openDatabase(url: string, opts: OpenStoreOptions): Promise<OpenedDatabase> {
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length), opts);
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return (await import('./dialects/postgres.js')).openPostgres(url, opts);
  if (url.startsWith('mysql://') || url.startsWith('mariadb://')) return (await import('./dialects/mysql.js')).openMysql(url, opts);
  throw new Error(`unsupported database URL "${redactUrl(url)}": expected sqlite:PATH, sqlite::memory:, postgres://… or mysql://…`);
}
