/**
 * Start-up checks of what the configuration points at, and errors that say what to fix: the variable, the
 * path, the host. A CLI command never creates an installation by accident: only `serve`, `migrate` and
 * `--init` may create the database.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import type { Config } from '../config.js';

export class InfrastructureError extends Error {
  override name = 'InfrastructureError';
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'it is a folder',
  ENOENT: 'no such file or folder',
  ENOSPC: 'no space left on the device',
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  '28P01': 'password authentication failed',
  '28000': 'not authorised',
  '3D000': 'the database does not exist',
};

const codeOf = (err: unknown): string | undefined => (typeof err === 'object' && err !== null && 'code' in err ? String((err).code) : undefined);
const reasonOf = (err: unknown): string => REASONS[codeOf(err) ?? ''] ?? (err instanceof Error ? err.message : String(err));

/** The SQLite file of a `sqlite:PATH` URL (absolute), or undefined for `sqlite::memory:` and other databases. */
export function sqliteFile(config: Config): string | undefined {
  if (!config.databaseUrl.startsWith('sqlite:')) return undefined;
  const file = config.databaseUrl.slice('sqlite:'.length);
  return file === ':memory:' || file === '' ? undefined : path.resolve(file);
}

/** Which variable decides where the database is. */
const dbVariable = (config: Config): string => (config.TESSERA_DATABASE_URL ? 'TESSERA_DATABASE_URL' : 'TESSERA_DATA_DIR');

/** The host (never the password) of a database or Redis URL. */
const hostOf = (url: string): string => {
  try {
    return new URL(url).host;
  } catch {
    return '(unparsable URL)';
  }
};

/** Refuse a command on a database that holds no Tessera installation (no file, or no migrations table). */
export async function requireInstallation(config: Config): Promise<void> {
  const file = sqliteFile(config);
  const missing = `no Tessera database at %s (${dbVariable(config)}); run \`tessera migrate\` to create one, or add --init`;
  if (file !== undefined) {
    if (!fs.existsSync(file)) throw new InfrastructureError(missing.replace('%s', file));
    return;
  }
  if (!config.databaseUrl.startsWith('postgres')) return; // sqlite::memory: starts empty by definition
  const { openSqlStore } = await import('../store/connect.js');
  const store = await openSqlStore(config.databaseUrl).catch((err: unknown) => {
    throw new InfrastructureError(describe(err, config) ?? String(err));
  });
  try {
    const r = await sql<{ t: string | null }>`select to_regclass('kysely_migration')::text as t`.execute(store.db);
    if (!r.rows[0]?.t) throw new InfrastructureError(missing.replace('%s', `PostgreSQL ${hostOf(config.databaseUrl)}`));
  } catch (err) {
    if (err instanceof InfrastructureError) throw err;
    throw new InfrastructureError(describe(err, config) ?? String(err));
  } finally {
    await store.close();
  }
}

/** Create the data folder and check the SQLite file can be opened for writing, naming the variable when not. */
export function prepareFiles(config: Config): void {
  try {
    // the data folder holds the database, the key-encryption key and the outboxes: owner only
    fs.mkdirSync(config.TESSERA_DATA_DIR, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new InfrastructureError(`cannot create the data folder ${path.resolve(config.TESSERA_DATA_DIR)}: ${reasonOf(err)} (TESSERA_DATA_DIR)`);
  }
  const file = sqliteFile(config);
  if (file === undefined) return;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // 'a' opens read-write and creates an empty file when missing, which SQLite takes as a new database
    fs.closeSync(fs.openSync(file, 'a'));
  } catch (err) {
    throw new InfrastructureError(`cannot open the SQLite database at ${file}: ${reasonOf(err)} (${dbVariable(config)})`);
  }
}

/** A message naming what to fix for an error from opening the store, the shared state or the files; else undefined. */
export function describe(err: unknown, config: Config): string | undefined {
  const code = codeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  if (message.startsWith('cannot connect to Redis')) return `${message} (TESSERA_REDIS_URL)`;
  const file = sqliteFile(config);
  if (code?.startsWith('SQLITE_') && file) return `cannot open the SQLite database at ${file}: ${message} (${dbVariable(config)})`;
  if (config.databaseUrl.startsWith('postgres') && code !== undefined && code in REASONS) {
    return `cannot connect to PostgreSQL at ${hostOf(config.databaseUrl)}: ${REASONS[code]} (TESSERA_DATABASE_URL)`;
  }
  if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL') return `cannot listen on ${config.HOST}:${config.PORT}: ${code === 'EADDRINUSE' ? 'address in use' : 'address not available'} (PORT, HOST)`;
  const where = typeof err === 'object' && err !== null && 'path' in err ? String((err).path) : undefined;
  if (where !== undefined && code !== undefined) {
    const variable = config.TESSERA_GEOIP_DB && path.resolve(where) === path.resolve(config.TESSERA_GEOIP_DB) ? 'TESSERA_GEOIP_DB' : 'TESSERA_DATA_DIR';
    return `cannot use ${where}: ${reasonOf(err)} (${variable})`;
  }
  return undefined;
}
