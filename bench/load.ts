import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { stopChild } from '../packages/server/test/support/child.js';
import { listeningPort } from './child.js';

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
  const port = await listeningPort(child, `${variant}: server`, 30_000);
  return {
    port,
    child,
    stop: () => stopChild(child, 3000),
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

/**
 * `npm run load [-- --nodes=N --seconds=S --workers=W]`: the mixed scenario (sign-up, login, /v1/me,
 * refresh, logout) against N local `tessera serve` nodes behind a round-robin proxy on loopback, on their
 * own PostgreSQL and Redis; prints throughput, p50/p99, answers by status and a loss check.
 * `npm run load -- --faults`: the fault suite in its long form (Redis down 10 s, PostgreSQL down 15 s).
 */
export async function mixedLoad(opts: { nodes: number; seconds: number; workers: number }): Promise<boolean> {
  const { startCluster } = await import('../packages/server/test/support/faults/cluster.js');
  const { startMixedLoad, statusCounts } = await import('../packages/server/test/support/faults/mixed-load.js');
  const { lossCheck } = await import('../packages/server/test/support/faults/checks.js');
  console.log(`starting PostgreSQL, Redis and ${opts.nodes} nodes…`);
  const cluster = await startCluster({ nodes: opts.nodes });
  try {
    const started = Date.now();
    const run = startMixedLoad(cluster.proxy.url, { workers: opts.workers, pauseMs: 0, mailbox: { dataDirs: cluster.nodes.map((n) => n.dataDir!) } });
    await new Promise((r) => setTimeout(r, opts.seconds * 1000));
    await run.stop();
    const elapsed = (Date.now() - started) / 1000;
    const answers = run.record.answers;
    const sorted = answers.map((a) => a.ms).sort((a, b) => a - b);
    const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
    const loss = await lossCheck(cluster, run.record);
    console.log(`requests   ${answers.length} in ${elapsed.toFixed(1)} s = ${(answers.length / elapsed).toFixed(1)} req/s (${opts.workers} workers, ${opts.nodes} nodes)`);
    console.log(`latency    p50 ${pct(50)} ms, p99 ${pct(99)} ms`);
    console.log(`statuses   ${JSON.stringify(statusCounts(answers))}`);
    console.log(`loss check ${loss.accounts} accounts, ${loss.sessions} sessions, ${loss.logouts} logouts: ` +
      `${loss.missingAccounts.length} accounts and ${loss.missingSessions.length} sessions missing, ` +
      `${loss.logoutsNotRevoked.length} logouts not revoked, ${loss.logoutsNotInFeed.length} not in the feed`);
    return loss.missingAccounts.length + loss.missingSessions.length + loss.logoutsNotRevoked.length + loss.logoutsNotInFeed.length === 0;
  } finally {
    await cluster.destroy();
  }
}

async function cli(argv: string[]): Promise<number> {
  const flag = (name: string, dflt: number) => Number(argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
  if (argv.includes('--faults')) {
    const child = spawn('npx', ['vitest', 'run', 'packages/server/test/ops/faults.test.ts'], { stdio: 'inherit', env: { ...process.env, TESSERA_FAULTS: 'long' } });
    return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
  }
  return (await mixedLoad({ nodes: flag('nodes', 2), seconds: flag('seconds', 20), workers: flag('workers', 8) })) ? 0 : 1;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  process.exitCode = await cli(process.argv.slice(2));
}
