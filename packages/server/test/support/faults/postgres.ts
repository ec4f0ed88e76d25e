/**
 * A PostgreSQL of the test's own, to stop, kill and restart: `initdb` into a temp dir and `pg_ctl` on a free
 * port (as the `postgres` user when the tests run as root, since PostgreSQL refuses to run as root). The
 * shared instance on 5432 is never touched.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../server.js';

const run = promisify(execFile);

function pgBin(name: string): string {
  for (const v of ['17', '16', '15', '14']) {
    const p = `/usr/lib/postgresql/${v}/bin/${name}`;
    if (existsSync(p)) return p;
  }
  return name;
}

/** true when initdb and pg_ctl can be found on this machine */
export const hasPgBinaries = existsSync(pgBin('initdb')) && pgBin('initdb').startsWith('/');

async function postgresUid(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const { stdout } = await run('id', ['-u', 'postgres']);
  const { stdout: g } = await run('id', ['-g', 'postgres']);
  return { uid: Number(stdout.trim()), gid: Number(g.trim()) };
}

export interface OwnPostgres {
  port: number;
  /** postgres://…/postgres on this instance */
  url: string;
  start(): Promise<void>;
  /** fast shutdown: active sessions are terminated (57P01 on their connections) */
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** SIGKILL of the postmaster */
  kill(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tessera-pg-'));
  const data = path.join(dir, 'data');
  const owner = await postgresUid();
  if (owner) {
    await chown(dir, owner.uid, owner.gid);
    await chmod(dir, 0o700);
  }
  const as = async (bin: string, args: string[]) => {
    const [cmd, argv] = owner ? ['runuser', ['-u', 'postgres', '--', pgBin(bin), ...args]] : [pgBin(bin), args];
    return run(cmd, argv, { timeout: 60_000 });
  };
  await as('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  const pgctl = (action: string, extra: string[] = []) => as('pg_ctl', ['-D', data, '-o', opts, '-l', path.join(dir, 'log'), '-w', '-t', '60', ...extra, action]);
  await pgctl('start');
  const pg: OwnPostgres = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: async () => void (await pgctl('start')),
    stop: async () => void (await pgctl('stop', ['-m', 'fast'])),
    restart: async () => void (await pgctl('restart', ['-m', 'fast'])),
    kill: async () => {
      const { readFile } = await import('node:fs/promises');
      const pid = Number((await readFile(path.join(data, 'postmaster.pid'), 'utf8')).split('\n')[0]);
      process.kill(pid, 'SIGKILL');
    },
    destroy: async () => {
      await pgctl('stop', ['-m', 'immediate']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return pg;
}
