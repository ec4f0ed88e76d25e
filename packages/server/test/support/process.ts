/** Run `tessera serve` as a real child process (the way users run it) and wait until it answers. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from './server.js';

export const BIN = path.resolve(import.meta.dirname, '../../bin/tessera.mjs');
/**
 * Node flags for a child process that runs the TypeScript sources: the `@tessera/source` export condition
 * makes `tessera/cli` and `@tessera/sdk` resolve to src/ (never a stale dist/), tsx compiles them.
 */
export const NODE_SOURCE = ['--conditions=@tessera/source', '--import', 'tsx'];

export interface ServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  output: () => string;
  /** TESSERA_DATA_DIR as given (its outbox/ holds the node's mail), when given */
  dataDir?: string;
  stop(): Promise<void>;
}

export async function spawnServer(env: Record<string, string>, port?: number, opts: { startTimeoutMs?: number } = {}): Promise<ServerProcess> {
  const p = port ?? (await freePort());
  let out = '';
  const child = spawn(process.execPath, [...NODE_SOURCE, BIN, 'serve'], {
    env: { ...process.env, TESSERA_LOG_LEVEL: 'warn', ...env, PORT: String(p), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${p}`;
  const until = Date.now() + (opts.startTimeoutMs ?? 20_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`tessera serve exited (${child.exitCode}): ${out}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`tessera serve did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port: p,
    child,
    output: () => out,
    ...(env.TESSERA_DATA_DIR ? { dataDir: env.TESSERA_DATA_DIR } : {}),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}
