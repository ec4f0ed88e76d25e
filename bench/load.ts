import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

export interface ServerHandle {
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `bench/server.ts <variant>` pinned to `core` (when given) and resolves once it listens. */
export async function startServer(variant: string, env: Record<string, string>, core: number | undefined): Promise<ServerHandle> {
  // e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the servers under load.
  const extra = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const node = [process.execPath, ...extra, '--conditions=@tessera/source', '--import', 'tsx', 'bench/server.ts', variant];
  const [cmd, ...args] = core === undefined ? node : ['taskset', '-c', String(core), ...node];
  const child = spawn(cmd, args, { env: { ...process.env, ...env, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${variant}: server did not start`)), 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`${variant}: server exited with ${code}`)));
  });
  return {
    port,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

/** User + system CPU time of a process in microseconds (Linux /proc; 0 elsewhere). */
export function cpuMicros(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of proc(5), counted after the command name; clock ticks are 100 Hz on Linux.
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return 0;
  }
}

export interface LoadResult {
  rps: number;
  p99: number;
  total: number;
  non2xx: number;
  errors: number;
}

export type TokenSource = { kind: 'cycle'; tokens: string[] } | { kind: 'fresh'; next: () => string | undefined };

/**
 * autocannon against GET /hello. `cycle`: every connection walks the same pre-built requests (one per token);
 * `fresh`: every request takes the next never-used token from a shared pool.
 */
export async function load(port: number, source: TokenSource, seconds: number, connections: number): Promise<LoadResult> {
  const requests =
    source.kind === 'cycle'
      ? source.tokens.map((t) => ({ method: 'GET' as const, path: '/hello', headers: { authorization: `Bearer ${t}` } }))
      : [
          {
            method: 'GET' as const,
            path: '/hello',
            setupRequest: (req: autocannon.Request) => {
              const t = source.next();
              return t === undefined ? req : { ...req, headers: { authorization: `Bearer ${t}` } };
            },
          },
        ];
  const r = await autocannon({ url: `http://127.0.0.1:${port}`, connections, duration: seconds, requests });
  return { rps: r.requests.average, p99: r.latency.p99, total: r.requests.total, non2xx: r.non2xx, errors: r.errors + r.timeouts };
}

export async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url);
  return res.json();
}
