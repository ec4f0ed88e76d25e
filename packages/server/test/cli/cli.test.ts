/**
 * The real `tessera` command in a child process: version, listings, mistakes reported, no accidental
 * installation, errors that name what to fix. Rows are seeded straight into the store to keep the number of
 * processes (each a few seconds on a busy machine) down; the pure parts are in args.test.ts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/connect.js';
import { runCli } from '../support/cli.js';
import { T0, uid, user } from '../support/store-fixtures.js';

const pkg = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };

describe('tessera command line', { timeout: 180_000 }, () => {
  let dir: string;
  let env: Record<string, string>;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-cli-'));
    env = { TESSERA_DATA_DIR: path.join(dir, 'data'), TESSERA_ARGON2_MEMORY_KIB: '19456' };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--version prints the package version', async () => {
    const r = await runCli(['--version'], {});
    expect(r).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it('a command where no database exists says so and creates nothing; --init or migrate creates it', async () => {
    const db = path.join(dir, 'data', 'tessera.db');
    const refused = await runCli(['users', 'list'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`no Tessera database at ${db} (TESSERA_DATA_DIR)`);
    expect(refused.stderr).toContain('tessera migrate');
    expect(existsSync(db)).toBe(false);
    expect(existsSync(path.join(dir, 'data'))).toBe(false);

    expect((await runCli(['keys', 'list', '--init'], env)).code).toBe(0);
    expect(existsSync(db)).toBe(true);
    const other = { ...env, TESSERA_DATABASE_URL: `sqlite:${path.join(dir, 'other.db')}` };
    expect((await runCli(['clients', 'list'], other)).stderr).toContain('(TESSERA_DATABASE_URL)');
    expect(await runCli(['migrate'], other)).toMatchObject({ code: 0, stdout: 'migrations applied\n' });
  });

  it('users list pages by cursor and filters by email prefix or id', async () => {
    const store = await openStore(`sqlite:${path.join(dir, 'data', 'tessera.db')}`);
    const rows = ['ada@example.com', 'adam@example.com', 'bob@example.com'].map((email, i) => user({ email, createdAt: T0 + i }));
    try {
      for (const r of rows) await store.createUser(r);
    } finally {
      await store.close();
    }
    const first = await runCli(['users', 'list', '--limit', '2', '--json'], env);
    const page1 = JSON.parse(first.stdout) as { users: Array<{ id: string; email: string }>; next_cursor: string };
    expect(page1.users.map((u) => u.email)).toEqual(['ada@example.com', 'adam@example.com']);
    // the admin API's fields: verification, status, second factor and last sign-in
    expect(page1.users[0]).toMatchObject({ email_verified: expect.any(Boolean), disabled: false, mfa: false, last_sign_in_at: null, password_reset_required: false });
    const second = await runCli(['users', 'list', '--limit=2', '--cursor', page1.next_cursor, '--json'], env);
    expect(JSON.parse(second.stdout)).toMatchObject({ users: [{ id: rows[2].id, email: 'bob@example.com', admin: false }], next_cursor: null });

    const byPrefix = await runCli(['users', 'list', '--query', 'ada'], env);
    expect(byPrefix.stdout.trim().split('\n').map((l) => l.split(/\s+/)[2])).toEqual(['ada@example.com', 'adam@example.com']);
  });

  it('clients list and delete', async () => {
    const store = await openStore(`sqlite:${path.join(dir, 'data', 'tessera.db')}`);
    const client = { id: uid('rs'), name: 'notes-api', secretHash: 'h', createdAt: T0 };
    try {
      await store.createClient(client);
    } finally {
      await store.close();
    }
    const listed = JSON.parse((await runCli(['clients', 'list', '--json'], env)).stdout) as Array<Record<string, string>>;
    expect(listed).toEqual([expect.objectContaining({ client_id: client.id, name: 'notes-api', type: 'resource', created_at: new Date(T0).toISOString() })]);
    expect((await runCli(['clients', 'delete', client.id], env)).code).toBe(0);
    const again = await runCli(['clients', 'delete', client.id], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`no client ${client.id}`);
  });

  it('an unknown flag is an error with a did-you-mean, never ignored', async () => {
    const r = await runCli(['users', 'create', '--emial', 'x@example.com', '--password-stdin'], env, 'correct horse battery staple');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown flag --emial (did you mean --email?)');
  });

  it('a misspelt TESSERA_ variable is reported with the name it resembles', async () => {
    const r = await runCli(['keys', 'list'], { ...env, TESSERA_ACESS_TTL: '60' });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning: TESSERA_ACESS_TTL is not a Tessera variable (did you mean TESSERA_ACCESS_TTL?)');
  });

  it('TESSERA_ISSUER must be an absolute http(s) URL', async () => {
    const r = await runCli(['keys', 'list'], { ...env, TESSERA_ISSUER: 'auth.example.com' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('TESSERA_ISSUER: an absolute http:// or https:// URL');
  });

  it('infrastructure errors name the path or host and the variable to fix', async () => {
    const notAFolder = path.join(dir, 'plain-file');
    writeFileSync(notAFolder, '');
    const folder = await runCli(['serve'], { TESSERA_DATA_DIR: path.join(notAFolder, 'data') });
    expect(folder.code).toBe(1);
    expect(folder.stderr).toContain(`cannot create the data folder ${path.join(notAFolder, 'data')}: a part of the path is not a folder (TESSERA_DATA_DIR)`);

    // root may write anywhere, but not into sysfs: the same check a permission problem goes through
    const denied = await runCli(['migrate'], { TESSERA_DATA_DIR: dir, TESSERA_DATABASE_URL: 'sqlite:/sys/tessera.db' });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^cannot open the SQLite database at \/sys\/tessera\.db: (permission denied|operation not permitted|no such file or folder) \(TESSERA_DATABASE_URL\)/);

    const pg = await runCli(['migrate'], { TESSERA_DATA_DIR: dir, TESSERA_DATABASE_URL: 'postgres://tessera:secret@127.0.0.1:1/tessera' });
    expect(pg.code).toBe(1);
    expect(pg.stderr).toContain('cannot connect to PostgreSQL at 127.0.0.1:1: connection refused (TESSERA_DATABASE_URL)');
    expect(pg.stderr).not.toContain('secret');

    const redis = await runCli(['migrate'], { ...env, TESSERA_REDIS_URL: 'redis://127.0.0.1:1' });
    expect(redis.code).toBe(1);
    expect(redis.stderr).toMatch(/cannot connect to Redis at 127\.0\.0\.1:1: .*\(TESSERA_REDIS_URL\)/);
  });
});
