/** Starting bench/server-child.ts variants pinned, and talking to them over IPC. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { stopChild } from '../packages/server/test/support/child.js';

export interface Child {
  name: string;
  port: number;
  child: ChildProcess;
  call<T = unknown>(cmd: string, args?: Record<string, unknown>): Promise<T>;
  /** resident set size, bytes (Linux /proc) */
  rss(): number;
  stop(): Promise<void>;
}

let nextId = 0;

/**
 * The Tessera servers of the bench run the built packages (dist/), what `tessera serve` runs, not the
 * sources through tsx: tsx keeps every function's name by a call per closure it creates, a cost the
 * shipped code does not pay (a few % of a fast request). `BENCH_FROM_SOURCE=1` runs the sources instead.
 */
export const fromSource = process.env.BENCH_FROM_SOURCE === '1';

let built = false;
/** Builds the packages once per bench run (≈ 10 s), so dist/ is never older than the sources measured. */
export function ensureBuilt(log: (s: string) => void): void {
  if (fromSource || built) return;
  log('building the packages (npm run build), so the servers run what ships');
  execFileSync('npm', ['run', '-s', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
  built = true;
}

/** Resolves with the port once the child prints `listening <port>` on stdout; `label` starts the errors. */
export function listeningPort(child: ChildProcess, label: string, timeoutMs: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${label} did not start`)), timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`${label} exited with ${code}`)));
  });
}

/** `cores`: a taskset CPU list ("0", "0,1"), or undefined for no pinning */
export async function startChild(name: string, variant: string, env: Record<string, string>, cores: string | undefined): Promise<Child> {
  // e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the servers under load
  const extra = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const node = [process.execPath, ...extra, ...(fromSource ? ['--conditions=@tessera/source'] : []), '--import', 'tsx', 'bench/server-child.ts', variant];
  const [cmd, ...args] = cores === undefined ? node : ['taskset', '-c', cores, ...node];
  const child = spawn(cmd, args, { env: { ...process.env, ...env, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (m: { id: number; value?: unknown; error?: string }) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.error !== undefined) w?.reject(new Error(`${name}: ${m.error}`));
    else w?.resolve(m.value);
  });
  const port = await listeningPort(child, `${name}:`, 300_000);
  return {
    name,
    port,
    child,
    call: <T>(c: string, a: Record<string, unknown> = {}) =>
      new Promise<T>((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ ...a, cmd: c, id });
      }),
    rss: () => {
      try {
        return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
      } catch {
        return 0;
      }
    },
    stop: () => stopChild(child),
  };
}
