/**
 * `npm run bench:soak [-- --minutes=10 --rate=8]` (not in CI): login, 10 refreshes, logout, `rate` times a
 * second (a tick is skipped while 32 cycles are in flight), against one SQLite server (pinned to core 0) with
 * short lifetimes, so housekeeping has work from the first minutes on. Every minute it prints the database
 * size (file + WAL) and the server's RSS with the range RSS moved in during the minute, then what RSS is made
 * of (bench/memory.ts) and what is left after a full garbage collection forced right after the sample: a leak
 * shows as the live heap (or native memory) climbing minute after minute, garbage-collector noise as RSS
 * moving around a level that the post-GC figures do not follow. At the end, how much each grew over the
 * last five minutes (or the last half, for shorter runs).
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { ensureBuilt, startChild } from './child.js';
import { agentFor, request } from './http-loops.js';
import type { MemoryBreakdown, Settled } from './memory.js';
import { PASSWORD } from './server-constants.js';

const arg = (name: string, dflt: number): number => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const minutes = arg('minutes', 10);
const rate = arg('rate', 8);
const USERS = 100;
const pinned = availableParallelism() >= 2;
if (pinned) execFileSync('taskset', ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' });

const env = {
  BENCH_DB: 'sqlite',
  BENCH_USERS: String(USERS),
  // short lifetimes: used tokens go after 2 minutes, logged-out sessions 1 minute after the logout
  TESSERA_SESSION_IDLE_TTL: '120',
  TESSERA_ENDED_SESSION_RETENTION: '60',
  TESSERA_REFRESH_GRACE: '10',
  // the default access lifetime (the bench's 1 day would keep every logout's revocation-feed row all run)
  TESSERA_ACCESS_TTL: '300',
};
ensureBuilt(console.log);
const server = await startChild('soak', 'tessera', env, pinned ? '0' : undefined);
const agent = agentFor(64);
const json = { 'content-type': 'application/json', 'user-agent': 'soak' };
let cycles = 0;
let failures = 0;
let skipped = 0;

async function cycle(i: number): Promise<void> {
  const login = await request(agent, server.port, 'POST', '/v1/login', JSON.stringify({ email: `bench-${i % USERS}@example.test`, password: PASSWORD }), json);
  if (login.status !== 200) throw new Error(`login ${login.status} ${login.body.slice(0, 200)}`);
  let pair = JSON.parse(login.body) as { access_token: string; refresh_token: string };
  for (let k = 0; k < 10; k++) {
    const r = await request(agent, server.port, 'POST', '/v1/token', JSON.stringify({ grant_type: 'refresh_token', refresh_token: pair.refresh_token }), json);
    if (r.status !== 200) throw new Error(`refresh ${r.status} ${r.body.slice(0, 200)}`);
    pair = JSON.parse(r.body) as typeof pair;
  }
  const out = await request(agent, server.port, 'POST', '/v1/logout', undefined, { authorization: `Bearer ${pair.access_token}`, 'user-agent': 'soak' });
  if (out.status !== 204) throw new Error(`logout ${out.status}`);
}

interface Sample {
  size: number;
  rss: number;
  /** the mean and the highest RSS of the minute (sampled every 2 s) */
  mean: number;
  peak: number;
  m: MemoryBreakdown & { settled: Settled };
}
const samples: Sample[] = [];
const mib = (b: number): string => (b / 1048576).toFixed(2);
const m0 = (b: number): string => (b / 1048576).toFixed(0);
// RSS every 2 s in between, so each minute line also shows the range RSS moved in (noise vs trend)
let window: number[] = [];
const poller = setInterval(() => window.push(server.rss()), 2000);
const sample = async (minute: number): Promise<void> => {
  const size = await server.call<number>('db-size');
  const rss = server.rss();
  const m = await server.call<Sample['m']>('mem');
  window.push(rss);
  const peak = Math.max(...window);
  const mean = window.reduce((a, b) => a + b, 0) / window.length;
  samples.push({ size, rss, mean, peak, m });
  const range = `mean ${m0(mean)}, ${m0(Math.min(...window))}–${m0(peak)} this minute`;
  window = [];
  const native = m.arenas + m.brk + m.otherAnon - m.buffers;
  console.log(`minute ${String(minute).padStart(2)}: database ${mib(size)} MiB, RSS ${mib(rss)} MiB (${range}), ${cycles} cycles, ${skipped} skipped, ${failures} failed`);
  console.log(
    `    RSS = V8 heap ${m0(m.v8)} (young ${m0(m.young)}; used ${m0(m.heapUsed)}) + buffers ${m0(m.buffers)} + argon2 ${m0(m.argon2)} + native ${m0(native)} ` +
      `(of it glibc arenas ${m0(m.arenas)}, brk ${m0(m.brk)}) + files ${m0(m.file)}; ` +
      `after a full GC: RSS ${m0(m.settled.rss)}, V8 heap ${m0(m.settled.v8)}, live ${m0(m.settled.live)}`,
  );
};

const inFlight = new Set<Promise<void>>();
let i = 0;
const started = Date.now();
await sample(0);
// A starved server (the machine is shared) must not build a backlog that then lands as a burst, with its
// sessions and in-flight requests: beyond this many cycles in flight a tick is skipped (and counted).
const MAX_IN_FLIGHT = 32;
const ticker = setInterval(() => {
  if (inFlight.size >= MAX_IN_FLIGHT) return void skipped++;
  const p = cycle(i++).then(
    () => void cycles++,
    (err: unknown) => {
      failures++;
      if (failures <= 3) console.error(String(err));
    },
  );
  inFlight.add(p);
  void p.finally(() => inFlight.delete(p));
}, 1000 / rate);
for (let m = 1; m <= minutes; m++) {
  await new Promise((r) => setTimeout(r, started + m * 60_000 - Date.now()));
  await sample(m);
}
clearInterval(ticker);
clearInterval(poller);
await Promise.all(inFlight);
const back = Math.min(5, Math.floor(minutes / 2));
const from = samples[samples.length - 1 - back];
const to = samples[samples.length - 1];
const growth = (a: number, b: number): string => `${(((b - a) / a) * 100).toFixed(1)} %`;
const g = (f: (x: Sample) => number): string => growth(f(from), f(to));
console.log(`\nlast ${back} minutes: database ${g((x) => x.size)}, RSS ${g((x) => x.rss)} (target: < 2 % over the last 5 minutes of a 10-minute run)`);
console.log(
  `  the minute's mean RSS ${g((x) => x.mean)} (peak ${g((x) => x.peak)}); live heap ${g((x) => x.m.settled.live)}, ` +
    `native ${g((x) => x.m.arenas + x.m.brk + x.m.otherAnon - x.m.buffers)}`,
);
agent.destroy();
await server.stop();
process.exit(failures > 0 ? 1 : 0);
