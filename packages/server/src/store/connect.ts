/**
 * Opens a Store from a database URL: `sqlite:PATH`, `sqlite::memory:`, `postgres://…` or `postgresql://…`.
 * It does not migrate: call `store.migrate()` (idempotent, safe to race across processes).
 */
import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import type { LogConfig } from 'kysely';
import pg from 'pg';
import { KyselyStore } from './kysely-store.js';
import type { Database } from './schema.js';
import type { Store } from './types.js';

export interface OpenStoreOptions {
  /** PostgreSQL only: schema to create if missing and to use as search_path on every pooled connection */
  pgSchema?: string;
  /** Kysely query logging (levels or a function) */
  log?: LogConfig;
  /** PostgreSQL only: pool size (default 10) */
  pgPoolMax?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export async function openStore(url: string, opts: OpenStoreOptions = {}): Promise<Store> {
  return openKyselyStore(url, opts);
}

/** same as openStore, typed as the class (tests and the CLI reach `db` for maintenance) */
export async function openKyselyStore(url: string, opts: OpenStoreOptions = {}): Promise<KyselyStore> {
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length), opts);
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return openPostgres(url, opts);
  throw new Error(`unsupported database URL "${redact(url)}": expected sqlite:PATH, sqlite::memory: or postgres://…`);
}

function openSqlite(file: string, opts: OpenStoreOptions): KyselyStore {
  if (file === '') throw new Error('sqlite: URL without a path: expected sqlite:PATH or sqlite::memory:');
  const memory = file === ':memory:';
  if (!memory) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const conn = new SqliteDatabase(file);
  if (!memory) conn.pragma('journal_mode = WAL');
  conn.pragma('busy_timeout = 5000');
  conn.pragma('foreign_keys = ON');
  conn.pragma('synchronous = NORMAL');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: conn }), log: opts.log });
  return new KyselyStore(db, 'sqlite');
}

async function openPostgres(rawUrl: string, opts: OpenStoreOptions): Promise<KyselyStore> {
  // `?schema=NAME` in the URL selects (and creates) a schema, so several deployments can share one database.
  const parsed = new URL(rawUrl);
  const fromUrl = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  const url = parsed.toString();
  const schema = opts.pgSchema ?? fromUrl;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid pgSchema "${schema}": lower-case letters, digits and _ only`);
  }
  // int8 (BIGINT times, identity ids, count(*)) as numbers for this pool only; the global pg.types stay untouched
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));
  const pool = new pg.Pool({
    connectionString: url,
    types,
    max: opts.pgPoolMax ?? 10,
    // a startup parameter, so it is in force before the first query of every pooled connection
    ...(schema !== undefined ? { options: `-c search_path=${schema}` } : {}),
  });
  // an idle client that errors (server restart) is dropped by the pool; without a listener it would crash the process
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: opts.log });
  try {
    if (schema !== undefined) await ensureSchema(db, schema);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return new KyselyStore(db, 'postgres', schema);
}

async function ensureSchema(db: Kysely<Database>, schema: string): Promise<void> {
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  } catch (err) {
    // two processes racing `create schema if not exists` can still hit a unique violation in pg_namespace
    const r = await sql<{ n: number }>`select count(*) as n from pg_namespace where nspname = ${schema}`.execute(db);
    if (Number(r.rows[0]?.n ?? 0) === 0) throw err;
  }
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
