/** Run `tessera serve` as a real child process (the way users run it) and wait until it answers. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { captureOutput, stopChild, waitHealthy } from './child.js';
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
  const child = spawn(process.execPath, [...NODE_SOURCE, BIN, 'serve'], {
    env: { ...process.env, TESSERA_LOG_LEVEL: 'warn', ...env, PORT: String(p), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = captureOutput(child);
  const url = `http://127.0.0.1:${p}`;
  await waitHealthy('tessera serve', url, child, output, opts.startTimeoutMs ?? 20_000);
  return {
    url,
    port: p,
    child,
    output,
    ...(env.TESSERA_DATA_DIR ? { dataDir: env.TESSERA_DATA_DIR } : {}),
    stop: () => stopChild(child),
  };
}

/** The example notes API (examples/notes), run from its sources as its `npm start` runs it. */
export const NOTES_API = path.resolve(import.meta.dirname, '../../../../examples/notes/src/main.ts');

export interface ApiProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/** Starts the notes API on a free port with `env` (TESSERA_ISSUER, client credentials…) and waits until it answers. */
export async function spawnNotesApi(env: Record<string, string>): Promise<ApiProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...NODE_SOURCE, NOTES_API], {
    env: { ...process.env, EXAMPLE_PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = captureOutput(child);
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy('the notes API', url, child, output, 30_000);
  return { url, child, output, stop: () => stopChild(child) };
}
