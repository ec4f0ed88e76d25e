/**
 * `npm run bench` (add `-- --quick` for a 1 s-per-row smoke run). Servers run pinned to core 0, this runner
 * (issuer, autocannon, tinybench) to core 1, so the load generator never steals the server's CPU.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { BenchIssuer, CLIENT_ID, CLIENT_SECRET } from './issuer.js';
import { cpuMicros, getJson, load, startServer } from './load.js';
import type { LoadResult, ServerHandle, TokenSource } from './load.js';
import { benchVerify } from './verify.js';

const quick = process.argv.includes('--quick');
const SECONDS = quick ? 1 : 10;
const WARMUP = quick ? 1 : 2;
const ROUNDS = quick ? 1 : 5;
const CONNECTIONS = 64;
const REVOKED = 100_000;
const LIVE_TOKENS = 1000;
const FRESH_TOKENS = quick ? 30_000 : 240_000;

const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');
const cores = availableParallelism();
const pinned = cores >= 2;
if (pinned) execFileSync('taskset', ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' });
const serverCore = pinned ? 0 : undefined;

const t0 = Date.now();
const log = (s: string): void => void process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${s}\n`);

log(`issuer with ${REVOKED} revoked sessions`);
const issuer = await new BenchIssuer(REVOKED).start();
const edTokens = Array.from({ length: LIVE_TOKENS }, () => issuer.mint(issuer.ed));
const ecTokens = Array.from({ length: LIVE_TOKENS }, () => issuer.mint(issuer.ec));
const fresh = Array.from({ length: FRESH_TOKENS }, () => issuer.mint(issuer.ed));
log(`minted ${2 * LIVE_TOKENS + FRESH_TOKENS} tokens`);
// Each row has its own server and cache, so each walks the same never-seen pool with its own index.
let exhausted = false;
const freshSource = (): TokenSource => {
  let i = 0;
  return {
    kind: 'fresh',
    next: () => {
      const t = fresh[i++];
      if (t === undefined) exhausted = true;
      return t;
    },
  };
};

const env = {
  BENCH_ISSUER: issuer.url,
  BENCH_ED_PEM: issuer.ed.publicPem,
  BENCH_EC_PEM: issuer.ec.publicPem,
  BENCH_CLIENT_ID: CLIENT_ID,
  BENCH_CLIENT_SECRET: CLIENT_SECRET,
};

interface Row {
  key: string;
  label: string;
  variant: string;
  source: TokenSource;
  authenticated: boolean;
}

const cycle = (tokens: string[]): TokenSource => ({ kind: 'cycle', tokens });
// The uncached comparison (raw EdDSA, SDK uncached, @fastify/jwt, jose) all send a never-seen token per
// request, so the load generator does the same work for each of them.
const rows: Row[] = [
  { key: 'bare', label: 'bare Fastify route (no auth)', variant: 'bare', source: cycle(edTokens), authenticated: false },
  { key: 'sdk', label: '@tessera/sdk, warm cache (1,000 tokens)', variant: 'sdk', source: cycle(edTokens), authenticated: true },
  { key: 'fjwt-cache', label: '@fastify/jwt EdDSA, verify cache on', variant: 'fastify-jwt-cache', source: cycle(edTokens), authenticated: true },
  { key: 'noop', label: 'async no-op preHandler (hook floor)', variant: 'noop', source: cycle(edTokens), authenticated: false },
  { key: 'raw-eddsa', label: 'raw node:crypto EdDSA hook (new tokens)', variant: 'raw-eddsa', source: freshSource(), authenticated: true },
  { key: 'sdk-uncached', label: '@tessera/sdk, uncached (every token new)', variant: 'sdk', source: freshSource(), authenticated: true },
  { key: 'raw-eddsa-sodium', label: 'raw libsodium EdDSA hook (new tokens)', variant: 'raw-eddsa-sodium', source: freshSource(), authenticated: true },
  { key: 'sdk-uncached-node', label: '@tessera/sdk uncached, node:crypto Ed25519', variant: 'sdk-node-crypto', source: freshSource(), authenticated: true },
  { key: 'fjwt', label: '@fastify/jwt EdDSA, default (new tokens)', variant: 'fastify-jwt', source: freshSource(), authenticated: true },
  { key: 'jose', label: 'jose jwtVerify hook, EdDSA (new tokens)', variant: 'jose', source: freshSource(), authenticated: true },
  { key: 'raw-es256', label: 'raw node:crypto ES256 hook', variant: 'raw-es256', source: cycle(ecTokens), authenticated: true },
];

interface Measured extends LoadResult {
  note: string;
  cpuPerReq: number;
}

const selected = rows.filter((row) => !only || only.includes(row.key));
const servers = new Map<string, ServerHandle>();
const results = new Map<string, Measured>();
let invalid = false;
try {
  // Every server runs from the start (idle ones cost nothing), so the rows can be measured in interleaved
  // rounds: a neighbour's load on this shared machine then hits every row alike instead of one or two.
  for (const row of selected) servers.set(row.key, await startServer(row.variant, env, serverCore));
  for (const row of selected) {
    const port = servers.get(row.key)!.port;
    if (row.variant.startsWith('sdk')) {
      // The SDK must be serving for real: keys loaded, feed live, all 100k revocations applied.
      const deadline = Date.now() + 60_000;
      for (;;) {
        const s = (await getJson(`http://127.0.0.1:${port}/__bench/ready`)) as { ready: boolean; sids: number };
        if (s.ready && s.sids >= REVOKED) break;
        if (Date.now() > deadline) throw new Error(`sdk not ready: ${JSON.stringify(s)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await load(port, row.source, WARMUP, CONNECTIONS);
  }
  log(`${selected.length} servers up and warm; ${ROUNDS} rounds of ${SECONDS / ROUNDS} s per row`);
  for (let round = 0; round < ROUNDS; round++) {
    // Every other round runs the rows in reverse order, so no row always comes first or right after another.
    for (const row of round % 2 === 0 ? selected : [...selected].reverse()) {
      const server = servers.get(row.key)!;
      const cpuBefore = cpuMicros(server.child.pid);
      const r = await load(server.port, row.source, SECONDS / ROUNDS, CONNECTIONS);
      const cpu = cpuMicros(server.child.pid) - cpuBefore;
      const prev = results.get(row.key);
      const n = round + 1;
      results.set(row.key, {
        rps: ((prev?.rps ?? 0) * round + r.rps) / n,
        p99: Math.max(prev?.p99 ?? 0, r.p99),
        total: (prev?.total ?? 0) + r.total,
        non2xx: (prev?.non2xx ?? 0) + r.non2xx,
        errors: (prev?.errors ?? 0) + r.errors,
        cpuPerReq: ((prev?.cpuPerReq ?? 0) * (prev?.total ?? 0) + cpu) / Math.max(1, (prev?.total ?? 0) + r.total),
        note: '',
      });
    }
  }
  for (const row of selected) {
    const r = results.get(row.key)!;
    if (row.variant.startsWith('sdk')) {
      const s = (await getJson(`http://127.0.0.1:${servers.get(row.key)!.port}/__bench/ready`)) as { sids: number; cache: { hits: number; misses: number } };
      r.note = `revoked sids ${s.sids}, cache hits ${s.cache.hits}, misses ${s.cache.misses}`;
    }
    if (row.authenticated && (r.non2xx > 0 || r.errors > 0)) {
      invalid = true;
      r.note += ` INVALID: ${r.non2xx} non-2xx, ${r.errors} errors`;
    }
    log(`${row.label}: ${Math.round(r.rps)} req/s, p99 ${r.p99} ms, server CPU ${r.cpuPerReq.toFixed(1)} µs/req ${r.note}`);
  }
} finally {
  await Promise.all([...servers.values()].map((s) => s.stop()));
}
if (exhausted) invalid = true;

const rps = (k: string): number => results.get(k)?.rps ?? 0;
const bare = rps('bare');
const rawEd = rps('raw-eddsa');
const uncachedRows = new Set(['sdk-uncached', 'fjwt', 'jose', 'raw-es256', 'raw-eddsa', 'raw-eddsa-sodium', 'sdk-uncached-node']);
const pad = (s: string, n: number): string => s.padEnd(n);
const lines = [
  `| row | req/s | p99 ms | vs bare | vs raw EdDSA | server CPU µs/req |`,
  `| --- | ---: | ---: | ---: | ---: | ---: |`,
  ...rows.flatMap((row) => {
    const r = results.get(row.key);
    if (!r) return [];
    const vsRaw = uncachedRows.has(row.key) ? (r.rps / rawEd).toFixed(3) : '';
    return [`| ${pad(row.label, 42)} | ${Math.round(r.rps)} | ${r.p99} | ${(r.rps / bare).toFixed(3)} | ${vsRaw} | ${r.cpuPerReq.toFixed(1)} |`];
  }),
];

const sdk = rps('sdk');
const sdkUncached = rps('sdk-uncached');
const targets: [string, boolean][] = [
  [`SDK warm cache >= 0.85 x bare (${(sdk / bare).toFixed(3)})`, sdk >= 0.85 * bare],
  [`SDK uncached >= 0.95 x raw node:crypto EdDSA hook (${(sdkUncached / rawEd).toFixed(3)})`, sdkUncached >= 0.95 * rawEd],
  [`SDK warm cache ahead of every peer row (best peer ${Math.round(Math.max(rps('fjwt'), rps('fjwt-cache'), rps('jose')))})`, sdk > Math.max(rps('fjwt'), rps('fjwt-cache'), rps('jose'))],
  [`SDK uncached ahead of every uncached peer row (best ${Math.round(Math.max(rps('fjwt'), rps('jose')))})`, sdkUncached > Math.max(rps('fjwt'), rps('jose'))],
  ['every authenticated request answered 2xx, enough fresh tokens', !invalid],
];

log('verify() alone (tinybench, in-process)');
const verifyLines = only ? [] : await benchVerify(issuer, CLIENT_ID, CLIENT_SECRET, edTokens, fresh, quick ? 300 : 2000);
await issuer.close();

const cpu = cpus()[0]?.model ?? 'unknown';
console.log(`\nmachine: ${cores} cores, ${cpu}, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`autocannon: ${CONNECTIONS} connections, ${SECONDS} s per row (${ROUNDS} interleaved rounds; p99 = worst round) after ${WARMUP} s warm-up; server ${pinned ? 'taskset -c 0' : 'unpinned'}, load generator ${pinned ? 'taskset -c 1' : 'unpinned'}${quick ? ' (QUICK run: figures are not meaningful)' : ''}\n`);
console.log(lines.join('\n'));
console.log('');
for (const [name, ok] of targets) console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}`);
// The SDK checks Ed25519 with libsodium where it loads. What the SDK itself costs shows against the raw hook
// of the same backend; the node:crypto row shows the SDK where sodium-native is not installed.
const ratio = (a: string, b: string): string => (results.has(a) && results.has(b) ? (rps(a) / rps(b)).toFixed(3) : 'n/a');
console.log(`INFO  SDK uncached / raw libsodium hook (same Ed25519 backend): ${ratio('sdk-uncached', 'raw-eddsa-sodium')}`);
console.log(`INFO  SDK uncached with node:crypto Ed25519 / raw node:crypto hook: ${ratio('sdk-uncached-node', 'raw-eddsa')}; / best uncached peer: ${results.has('sdk-uncached-node') ? (rps('sdk-uncached-node') / Math.max(rps('fjwt'), rps('jose'))).toFixed(3) : 'n/a'}`);
console.log('');
console.log(verifyLines.join('\n'));
// The server's own paths (bench/server-rows.ts), unless only SDK rows were asked for.
if (!only && !process.argv.includes('--sdk-only')) {
  const { runServerRows } = await import('./server-rows.js');
  console.log('');
  console.log((await runServerRows({ quick, serverCores: pinned ? '0' : undefined, log })).join('\n'));
}
log('done');
process.exit(0);
