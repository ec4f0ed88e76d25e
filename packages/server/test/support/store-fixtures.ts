/** Row factories and backends for the store contract suite (test/store/contract.ts). */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createConnection } from 'mysql2/promise';
import { openSqlStore } from '../../src/store/connect.js';
import type { SqlStore } from '../../src/store/connect.js';
import type { EmailVerificationRow, MfaChallengeRow, PasswordResetRow, RefreshTokenRow, SessionRow, UserRow } from '../../src/store/ports/index.js';
import type { OpenedContractStore } from '../store/contract.js';
import { MYSQL_URL, PG_URL, hasMysql, hasPostgres } from './services.js';

export const T0 = Date.UTC(2026, 0, 1);
export const HOUR = 3_600_000;

export const uid = (p: string): string => `${p}_${randomUUID().replaceAll('-', '')}`;

export function user(over: Partial<UserRow> = {}): UserRow {
  const id = uid('usr');
  return { id, email: `${id}@example.test`, passwordHash: '$argon2id$x', isAdmin: false, passwordResetRequired: false, createdAt: T0, emailVerifiedAt: T0, legacy: false, disabledAt: null, ...over };
}

export function session(userId: string, over: Partial<SessionRow> = {}): SessionRow {
  return {
    id: uid('ses'),
    userId,
    createdAt: T0,
    lastSeenAt: T0,
    expiresAt: T0 + 24 * HOUR,
    ip: '203.0.113.5',
    geo: { country: 'GB', city: 'London', lat: 51.5, lon: -0.12, accuracyKm: 20 },
    userAgent: 'vitest',
    amr: ['pwd', 'otp', 'mfa'],
    authTime: T0,
    dpopJkt: null,
    transport: 'bearer',
    revokedAt: null,
    revokeReason: null,
    ...over,
  };
}

export function refresh(sessionId: string, over: Partial<RefreshTokenRow> = {}): RefreshTokenRow {
  return {
    id: uid('rt'),
    sessionId,
    secretHash: uid('h'),
    parentId: null,
    createdAt: T0,
    expiresAt: T0 + 24 * HOUR,
    usedAt: null,
    usedBy: null,
    successorId: null,
    successorSealed: null,
    ...over,
  };
}

export function reset(userId: string, over: Partial<PasswordResetRow> = {}): PasswordResetRow {
  return { id: uid('pr'), userId, secretHash: uid('h'), createdAt: T0, expiresAt: T0 + HOUR, usedAt: null, ...over };
}

export function verification(userId: string, over: Partial<EmailVerificationRow> = {}): EmailVerificationRow {
  return { id: uid('ev'), userId, email: `${userId}@example.test`, secretHash: uid('h'), createdAt: T0, expiresAt: T0 + 24 * HOUR, usedAt: null, ...over };
}

export function challenge(userId: string | null, over: Partial<MfaChallengeRow> = {}): MfaChallengeRow {
  return {
    id: uid('mfa'),
    userId,
    secretHash: uid('h'),
    kind: 'mfa',
    challenge: null,
    failures: 0,
    createdAt: T0,
    expiresAt: T0 + 5 * 60_000,
    usedAt: null,
    context: { ip: '203.0.113.5', transport: 'cookie' },
    ...over,
  };
}

export interface Backend {
  name: string;
  /** why the suite is skipped (the database is unreachable), or false */
  skip: string | false;
  /** a fresh, unmigrated store on its own database (file, memory, PostgreSQL schema, MariaDB database) */
  open: () => Promise<OpenedContractStore>;
  /** removes what open() created (temp folders, schemas, databases) */
  cleanup: () => Promise<void>;
}

/** the inspection hook every Kysely-backed store answers alike */
function inspected(store: SqlStore): OpenedContractStore {
  return {
    store,
    inspect: {
      async migrations() {
        const r = await sql<{ n: number }>`select count(*) as n from kysely_migration`.execute(store.db);
        return Number(r.rows[0]?.n ?? 0);
      },
    },
  };
}

export function sqliteFileBackend(): Backend {
  const dirs: string[] = [];
  return {
    name: 'sqlite (file)',
    skip: false,
    async open() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-store-'));
      dirs.push(dir);
      return inspected(await openSqlStore(`sqlite:${dir}/nested/folder/tessera.db`));
    },
    async cleanup() {
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    },
  };
}

export function sqliteMemoryBackend(): Backend {
  return { name: 'sqlite (:memory:)', skip: false, open: async () => inspected(await openSqlStore('sqlite::memory:')), cleanup: async () => undefined };
}

/** a unique schema per open(), all dropped by cleanup() */
export function postgresBackend(): Backend {
  const schemas: string[] = [];
  return {
    name: 'postgres',
    skip: hasPostgres ? false : `PostgreSQL at ${PG_URL} unreachable`,
    async open() {
      const schema = freshPgSchema();
      schemas.push(schema);
      return inspected(await openSqlStore(PG_URL, { pgSchema: schema }));
    },
    async cleanup() {
      await dropPgSchemas(schemas);
    },
  };
}

/** a unique database per open(), all dropped by cleanup() */
export function mariadbBackend(): Backend {
  const databases: string[] = [];
  return {
    name: 'mariadb',
    skip: hasMysql ? false : `MariaDB at ${MYSQL_URL} unreachable`,
    async open() {
      const database = freshMysqlDatabase();
      databases.push(database);
      return inspected(await openSqlStore(`${MYSQL_URL}/${database}`));
    },
    async cleanup() {
      await dropMysqlDatabases(databases);
    },
  };
}

export function freshPgSchema(): string {
  return `t_store_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
}

export async function dropPgSchemas(schemas: string[]): Promise<void> {
  if (schemas.length === 0) return;
  const admin = await openSqlStore(PG_URL);
  try {
    for (const s of schemas) await sql`drop schema if exists ${sql.id(s)} cascade`.execute(admin.db);
  } finally {
    await admin.close();
  }
}

export function freshMysqlDatabase(): string {
  return `t_store_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
}

export async function dropMysqlDatabases(databases: string[]): Promise<void> {
  if (databases.length === 0) return;
  const u = new URL(MYSQL_URL);
  const conn = await createConnection({ host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username || 'root'), password: decodeURIComponent(u.password) });
  try {
    for (const d of databases) await conn.query(`drop database if exists \`${d}\``);
  } finally {
    await conn.end();
  }
}
