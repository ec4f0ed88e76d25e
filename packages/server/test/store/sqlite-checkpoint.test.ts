/**
 * SQLite's WAL checkpoints run in a worker thread, not inside a request's COMMIT on the event loop: the
 * serving connection does not checkpoint by itself, the worker does (the pages reach the database file),
 * a dead worker hands checkpoints back to the serving connection, and closing the store or the server ends
 * the worker (its connection closes first, so the serving one, closing last, removes the WAL).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { openSqlStore } from '../../src/store/connect.js';
import type { SqlStore } from '../../src/store/connect.js';
import { BACKSTOP_AUTOCHECKPOINT_PAGES, DEFAULT_AUTOCHECKPOINT_PAGES, startCheckpointer } from '../../src/store/dialects/sqlite-checkpointer.js';
import { startServer } from '../support/server.js';

const PAGE = 4096;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-checkpoint-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const size = (file: string): number => (fs.existsSync(file) ? fs.statSync(file).size : 0);

function walConnection(name: string): { conn: SqliteDatabase.Database; file: string } {
  const file = path.join(dir, name);
  const conn = new SqliteDatabase(file);
  conn.pragma('journal_mode = WAL');
  conn.pragma('synchronous = NORMAL');
  conn.exec('create table t (b blob)');
  return { conn, file };
}

/** one page-sized row per commit: each COMMIT appends at least one frame to the WAL */
function commitPages(conn: SqliteDatabase.Database, n: number): void {
  const insert = conn.prepare('insert into t (b) values (randomblob(4000))');
  for (let i = 0; i < n; i++) insert.run();
}

describe('SQLite checkpoint worker', () => {
  it('the serving connection does not checkpoint by itself; the worker moves the pages into the file', async () => {
    const { conn, file } = walConnection('quiet.db');
    // no tick during the test: only the explicit checkpoint() below runs
    const cp = startCheckpointer(conn, file, { intervalMs: 3_600_000, journalSizeLimit: 16 * 1024 * 1024 });
    try {
      // past SQLite's own threshold (1000 pages), which would checkpoint inside a COMMIT and restart the WAL
      commitPages(conn, 3 * DEFAULT_AUTOCHECKPOINT_PAGES);
      expect(size(`${file}-wal`)).toBeGreaterThan(2.5 * DEFAULT_AUTOCHECKPOINT_PAGES * PAGE);
      expect(size(file)).toBeLessThan(100 * PAGE);
      const r = await cp.checkpoint();
      expect(r.busy).toBe(0);
      expect(r.log).toBeGreaterThanOrEqual(3 * DEFAULT_AUTOCHECKPOINT_PAGES);
      expect(r.checkpointed).toBe(r.log);
      expect(size(file)).toBeGreaterThan(3 * DEFAULT_AUTOCHECKPOINT_PAGES * 4000);
    } finally {
      cp.stop();
      await cp.exited;
      conn.close();
    }
  });

  it('a worker that dies hands checkpoints back to the serving connection, and says so', async () => {
    const { conn, file } = walConnection('dies.db');
    const warnings: string[] = [];
    const cp = startCheckpointer(conn, file, { journalSizeLimit: 16 * 1024 * 1024, warn: (m) => warnings.push(m) });
    try {
      expect(conn.pragma('wal_autocheckpoint', { simple: true })).toBe(BACKSTOP_AUTOCHECKPOINT_PAGES);
      await cp.worker.terminate();
      await cp.exited;
      expect(conn.pragma('wal_autocheckpoint', { simple: true })).toBe(DEFAULT_AUTOCHECKPOINT_PAGES);
      expect(warnings).toEqual([expect.stringMatching(/checkpoint worker ended .*checkpoints by itself again/)]);
      await expect(cp.checkpoint()).rejects.toThrow(/ended/);
    } finally {
      conn.close();
    }
  });

  it('a file store checkpoints in its worker; closing the store ends it', async () => {
    const file = path.join(dir, 'store', 'tessera.db');
    const s = await openSqlStore(`sqlite:${file}`);
    try {
      const one = async (q: string) => Object.values((await sql.raw<Record<string, unknown>>(q).execute(s.db)).rows[0])[0];
      expect(await one('pragma wal_autocheckpoint')).toBe(BACKSTOP_AUTOCHECKPOINT_PAGES);
      await sql`create table t (b blob)`.execute(s.db);
      const before = size(file);
      for (let i = 0; i < 200; i++) await sql`insert into t (b) values (randomblob(4000))`.execute(s.db);
      await vi.waitFor(() => expect(size(file)).toBeGreaterThan(before + 200 * 4000), { timeout: 10_000, interval: 50 });
    } finally {
      await s.close();
    }
    // the worker's connection is closed first, so the serving one closes last: it checkpoints and removes the WAL
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
  });

  it('an in-memory store keeps SQLite\'s own checkpoints (no worker)', async () => {
    const s = await openSqlStore('sqlite::memory:');
    try {
      const r = await sql.raw<Record<string, unknown>>('pragma wal_autocheckpoint').execute(s.db);
      expect(Object.values(r.rows[0])[0]).toBe(DEFAULT_AUTOCHECKPOINT_PAGES);
    } finally {
      await s.close();
    }
  });

  it('stopping the server ends the worker', async () => {
    const dataDir = path.join(dir, 'server');
    fs.mkdirSync(dataDir, { mode: 0o700 });
    const server = await startServer({ dataDir });
    const wal = path.join(dataDir, 'tessera.db-wal');
    const r = await sql.raw<Record<string, unknown>>('pragma wal_autocheckpoint').execute((server.t.store as SqlStore).db);
    expect(Object.values(r.rows[0])[0]).toBe(BACKSTOP_AUTOCHECKPOINT_PAGES);
    expect(fs.existsSync(wal)).toBe(true);
    await server.close();
    expect(fs.existsSync(wal)).toBe(false);
  });
});
