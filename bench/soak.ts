/**
 * `npm run bench:soak [-- --minutes=10 --rate=8]` (not in CI): login, 10 refreshes, logout, `rate` times a
 * second, against one SQLite server (pinned to core 0) with short lifetimes, so housekeeping has work from
 * the first minutes on. Every minute it prints the database size (file + WAL) and the server's RSS; at the
 * end, how much each grew over the last five minutes (or the last half, for shorter runs).
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { startChild } from './child.js';
import { agentFor, request } from './http-loops.js';
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
};
const server = await startChild('soak', 'tessera', env, pinned ? '0' : undefined);
const agent = agentFor(64);
const json = { 'content-type': 'application/json', 'user-agent': 'soak' };
let cycles = 0;
let failures = 0;

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

const samples: Array<{ size: number; rss: number }> = [];
const mib = (b: number): string => (b / 1048576).toFixed(2);
const sample = async (minute: number): Promise<void> => {
  const size = await server.call<number>('db-size');
  const rss = server.rss();
  samples.push({ size, rss });
  console.log(`minute ${String(minute).padStart(2)}: database ${mib(size)} MiB, RSS ${mib(rss)} MiB, ${cycles} cycles, ${failures} failed`);
};

const inFlight = new Set<Promise<void>>();
let i = 0;
const started = Date.now();
await sample(0);
const ticker = setInterval(() => {
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
await Promise.all(inFlight);
const back = Math.min(5, Math.floor(minutes / 2));
const from = samples[samples.length - 1 - back];
const to = samples[samples.length - 1];
const growth = (a: number, b: number): string => `${(((b - a) / a) * 100).toFixed(1)} %`;
console.log(`\nlast ${back} minutes: database ${growth(from.size, to.size)}, RSS ${growth(from.rss, to.rss)} (target: < 2 % over the last 5 minutes of a 10-minute run)`);
agent.destroy();
await server.stop();
process.exit(failures > 0 ? 1 : 0);
