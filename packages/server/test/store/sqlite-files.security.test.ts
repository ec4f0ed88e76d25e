/**
 * The SQLite file holds password hashes, sealed keys and session ids: another local user must not be able
 * to read it. Its folder is created 0700 and the database (with its -wal and -shm files) 0600; an existing
 * folder others can enter is reported once at start.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/connect.js';
import { user } from '../support/store-fixtures.js';

const mode = (p: string): number => fs.statSync(p).mode & 0o777;

describe('SQLite files are private to their owner', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-modes-'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('a new folder is 0700 and the database, -wal and -shm files are 0600', async () => {
    const warnings: string[] = [];
    const file = path.join(root, 'fresh', 'data', 'tessera.db');
    const s = await openStore(`sqlite:${file}`, { warn: (m) => warnings.push(m) });
    try {
      await s.migrate();
      expect(await s.createUser(user())).toBe(true);
      expect(mode(path.dirname(file))).toBe(0o700);
      for (const f of [file, `${file}-wal`, `${file}-shm`]) expect([f, mode(f)]).toEqual([f, 0o600]);
      expect(warnings).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it('an existing database file readable by others is tightened to 0600', async () => {
    const dir = path.join(root, 'loose-file');
    fs.mkdirSync(dir, { mode: 0o700 });
    const file = path.join(dir, 'tessera.db');
    fs.writeFileSync(file, '');
    fs.chmodSync(file, 0o644);
    const s = await openStore(`sqlite:${file}`);
    await s.close();
    expect(mode(file)).toBe(0o600);
  });

  it('an existing folder others can enter is reported once, naming the folder and its mode', async () => {
    const dir = path.join(root, 'shared');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o755);
    const warnings: string[] = [];
    const s = await openStore(`sqlite:${dir}/tessera.db`, { warn: (m) => warnings.push(m) });
    await s.close();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(dir);
    expect(warnings[0]).toContain('755');
  });
});
