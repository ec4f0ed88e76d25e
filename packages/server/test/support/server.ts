/** Start a real Tessera on a real port, on SQLite (temp dir), PostgreSQL (a fresh schema) or MariaDB (a fresh database). */
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import type { Logger } from 'pino';
import { loadConfig } from '../../src/config.js';
import type { Clock } from '../../src/lib/clock.js';
import { buildApp } from '../../src/http/app.js';
import type { Mailer } from '../../src/mail/types.js';
import { createTessera, type Tessera } from '../../src/tessera.js';
import { MYSQL_URL, PG_URL, hasMysql, hasPostgres } from './services.js';
import { dropMysqlDatabases } from './store-fixtures.js';

export interface TestServer {
  url: string;
  t: Tessera;
  app: FastifyInstance;
  dataDir: string;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export type DbKind = 'sqlite' | 'postgres' | 'mysql';

/** every backend a per-database suite runs on */
export const DB_KINDS: DbKind[] = ['sqlite', 'postgres', 'mysql'];

/** true when the suite for this backend must skip (its server is unreachable and not required) */
export const dbUnavailable = (db: DbKind): boolean => (db === 'postgres' && !hasPostgres) || (db === 'mysql' && !hasMysql);

function databaseUrl(db: DbKind, dataDir: string, pgSchema: string | undefined, mysqlDatabase: string | undefined): string {
  if (db === 'postgres') return `${PG_URL}?schema=${pgSchema}`;
  if (db === 'mysql') return `${MYSQL_URL}/${mysqlDatabase}`;
  return `sqlite:${dataDir}/tessera.db`;
}

export async function startServer(opts: { db?: DbKind; env?: Record<string, string>; clock?: Clock; mailer?: Mailer; dataDir?: string; pgSchema?: string; mysqlDatabase?: string; log?: Logger; logger?: boolean } = {}): Promise<TestServer> {
  const port = await freePort();
  const dataDir = opts.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'tessera-test-')));
  const db = opts.db ?? 'sqlite';
  const pgSchema = db === 'postgres' ? (opts.pgSchema ?? `t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`) : undefined;
  const mysqlDatabase = db === 'mysql' ? (opts.mysqlDatabase ?? `t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`) : undefined;
  const config = loadConfig({
    PORT: String(port),
    TESSERA_DATA_DIR: dataDir,
    TESSERA_DATABASE_URL: databaseUrl(db, dataDir, pgSchema, mysqlDatabase),
    TESSERA_LOG_LEVEL: 'silent',
    // Fast hashing parameters keep the suite quick; production floors are enforced by the config schema.
    TESSERA_ARGON2_MEMORY_KIB: '19456',
    TESSERA_ARGON2_TIME_COST: '2',
    TESSERA_RATE_LIMIT_PER_SECOND: '10000',
    TESSERA_LOGIN_LIMIT_PER_IP: '10000',
    ...opts.env,
  });
  const t = await createTessera(config, {
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.mailer ? { mailer: opts.mailer } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
  const app = await buildApp(t, { logger: opts.logger ?? false });
  await app.listen({ port, host: '127.0.0.1' });
  return {
    url: `http://127.0.0.1:${port}`,
    t,
    app,
    dataDir,
    async close() {
      await app.close();
      await t.close();
      if (pgSchema && !opts.pgSchema) await dropSchema(pgSchema);
      if (mysqlDatabase && !opts.mysqlDatabase) await dropMysqlDatabases([mysqlDatabase]);
      // mail written after the last answer may still be landing in the outbox: retry on ENOTEMPTY
      if (!opts.dataDir) await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    },
  };
}

export async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await c.end();
  }
}

/** A tiny JSON HTTP client over fetch that keeps the status, headers and parsed body. */
export interface Res<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export async function http<T = any>(base: string, method: string, p: string, opts: { json?: unknown; form?: Record<string, string>; headers?: Record<string, string>; body?: string } = {}): Promise<Res<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  let body: string | undefined = opts.body;
  if (opts.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  }
  const res = await fetch(base + p, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}
