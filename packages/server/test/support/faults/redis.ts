/**
 * A Redis of the test's own (`redis-server --port N`, no persistence), to stop and start again on the same
 * port. The shared instance on 6379 is never touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { freePort } from '../server.js';

export const hasRedisBinary = existsSync('/usr/bin/redis-server') || existsSync('/usr/local/bin/redis-server');

export interface OwnRedis {
  port: number;
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => (s.destroy(), resolve(false)));
  });
}

async function waitFor(port: number, up: boolean): Promise<void> {
  const until = Date.now() + 10_000;
  while ((await listening(port)) !== up) {
    if (Date.now() > until) throw new Error(`redis on ${port} did not come ${up ? 'up' : 'down'}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitFor(port, true);
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
    await waitFor(port, false);
  };
  await start();
  return { port, url: `redis://127.0.0.1:${port}`, start, stop, destroy: stop };
}
