/** The store contract on SQLite (a temp file and :memory:), plus what only SQLite has: the file, its modes, WAL. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openSqlStore, openStore } from '../../src/store/connect.js';
import { sqliteFileBackend, sqliteMemoryBackend, user } from '../support/store-fixtures.js';
import { describeStoreContract } from './contract.js';
import { MIGRATIONS } from './contract/constants.js';

const file = sqliteFileBackend();
describeStoreContract(file.name, file.open, file);
const memory = sqliteMemoryBackend();
describeStoreContract(memory.name, memory.open, memory);

describe('openStore', () => {
  it('refuses unknown URLs with a clear error, without echoing a password', async () => {
    await expect(openStore('mssql://root:hunter2@db/x')).rejects.toThrow(/unsupported database URL "mssql:\/\/\*\*\*@db\/x"/);
    await expect(openStore('sqlite:')).rejects.toThrow(/sqlite:PATH/);
  });
  it('does not migrate by itself', async () => {
    const s = await openStore('sqlite::memory:');
    try {
      await expect(s.getUserById('x')).rejects.toThrow(/no such table/);
    } finally {
      await s.close();
    }
  });
});

describe('SQLite file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-sqlite-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates the parent folder and sets WAL, busy_timeout and foreign_keys', async () => {
    const s = await openSqlStore(`sqlite:${dir}/a/b/t.db`);
    try {
      expect(fs.existsSync(`${dir}/a/b/t.db`)).toBe(true);
      const one = async (q: string) => Object.values((await sql.raw<Record<string, unknown>>(q).execute(s.db)).rows[0])[0];
      expect(await one('pragma journal_mode')).toBe('wal');
      expect(await one('pragma busy_timeout')).toBe(5000);
      expect(await one('pragma foreign_keys')).toBe(1);
    } finally {
      await s.close();
    }
  });

  it('three processes migrating one fresh file at once all succeed, once', async () => {
    const url = `sqlite:${dir}/race/t.db`;
    const child = fileURLToPath(new URL('../support/store-migrate-child.ts', import.meta.url));
    // a common start instant well after every child has loaded, so the migrations really overlap
    const startAt = String(Date.now() + 6000);
    const run = () =>
      new Promise<number | null>((resolve, reject) => {
        const p = spawn(process.execPath, ['--import', 'tsx', child, url, startAt], { stdio: ['ignore', 'ignore', 'inherit'] });
        p.once('error', reject);
        p.once('exit', resolve);
      });
    expect(await Promise.all([run(), run(), run()])).toEqual([0, 0, 0]);
    const s = await openSqlStore(url);
    try {
      const r = await sql<{ n: number }>`select count(*) as n from kysely_migration`.execute(s.db);
      expect(r.rows[0].n).toBe(MIGRATIONS);
      expect(await s.createUser(user())).toBe(true);
    } finally {
      await s.close();
    }
  });
});

describe('SQLite housekeeping indexes', () => {
  it('hold only revoked sessions and used refresh tokens, and the prune queries still use them', async () => {
    const s = await openSqlStore('sqlite::memory:');
    try {
      await s.migrate();
      const ddl = await sql<{ name: string; sql: string }>`select name, sql from sqlite_master where name in ('sessions_revoked_at', 'refresh_tokens_used_at') order by name`.execute(s.db);
      expect(ddl.rows.map((r) => [r.name, /where "?(revoked_at|used_at)"? is not null/i.test(r.sql)])).toEqual([['refresh_tokens_used_at', true], ['sessions_revoked_at', true]]);
      // the prune batches' shape (store/sql/housekeeping.ts): a range of set values, oldest first
      const sessionsPlan = await sql<{ detail: string }>`explain query plan select id from sessions where revoked_at >= ${0} and revoked_at < ${1} order by revoked_at limit 10`.execute(s.db.withoutPlugins());
      expect(sessionsPlan.rows.map((r) => r.detail).join('\n')).toMatch(/USING (COVERING )?INDEX sessions_revoked_at/);
      const tokensPlan = await sql<{ detail: string }>`explain query plan select id from refresh_tokens where used_at >= ${0} and used_at < ${1} order by used_at limit 10`.execute(s.db.withoutPlugins());
      expect(tokensPlan.rows.map((r) => r.detail).join('\n')).toMatch(/USING (COVERING )?INDEX refresh_tokens_used_at/);
    } finally {
      await s.close();
    }
  });
});
