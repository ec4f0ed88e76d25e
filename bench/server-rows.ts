/**
 * The server rows of `npm run bench` (alone: `npm run bench:server [-- --quick]`). Each Tessera path runs
 * against a baseline measured in the same run, in interleaved rounds (as the SDK rows): refresh with
 * rotation on SQLite and PostgreSQL against oidc-provider's refresh grant, `GET /v1/me` against a bare
 * Fastify route, logins against raw argon2 verifies at the same parameters and concurrency (with the
 * server's event-loop p99 during the load), each Tessera row at 1 and at 100,000 existing users/sessions.
 * Servers run pinned to core 0 (the "2 cores" login rows on both), the load generator on core 1.
 */
import autocannon from 'autocannon';
import pg from 'pg';
import { ensureBuilt, startChild, type Child } from './child.js';
import { agentFor, loops, RawConnection, request, type LoopResult } from './http-loops.js';
import { cpuMicros } from './load.js';
import { PASSWORD } from './server-constants.js';

export interface ServerRowsOptions {
  quick: boolean;
  /** taskset list for servers, undefined when the machine has one core */
  serverCores: string | undefined;
  log: (s: string) => void;
}

const REFRESH_CHAINS = 32;
const LOGIN_CONCURRENCY = 16;
const ME_CONNECTIONS = 64;
const BIG = 100_000;
const PG_URL = process.env.TESSERA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

type Kind = 'refresh' | 'oidc-refresh' | 'me' | 'bare' | 'login' | 'argon2';
interface Row {
  key: string;
  label: string;
  server: string;
  kind: Kind;
  /** the row this one is set against, when not its kind's usual baseline (the 2-core rows) */
  baseline?: string;
}
interface Measured {
  rate: number;
  cpu: number;
  ops: number;
  failed: number;
  eldP99: number;
  /** the runner's own CPU (the load generator), µs */
  loadCpu: number;
  note: string;
}

async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`drop schema if exists "${schema}" cascade`).finally(() => c.end());
}

export async function runServerRows(o: ServerRowsOptions): Promise<string[]> {
  const seconds = o.quick ? 1 : 10;
  const rounds = o.quick ? 1 : 5;
  const big = o.quick ? 2000 : BIG;
  const schemas = [`bench_${Date.now().toString(36)}_1`, `bench_${Date.now().toString(36)}_n`];
  const pinned = o.serverCores;
  const servers: Array<[string, string, Record<string, string>, string | undefined]> = [
    ['sqlite-1', 'tessera', { BENCH_DB: 'sqlite', BENCH_USERS: '1' }, pinned],
    ['sqlite-n', 'tessera', { BENCH_DB: 'sqlite', BENCH_USERS: String(big) }, pinned],
    ['pg-1', 'tessera', { BENCH_DB: 'postgres', BENCH_USERS: '1', BENCH_PG_SCHEMA: schemas[0] }, pinned],
    ['pg-n', 'tessera', { BENCH_DB: 'postgres', BENCH_USERS: String(big), BENCH_PG_SCHEMA: schemas[1] }, pinned],
    ['oidc', 'oidc-provider', {}, pinned],
    ['bare', 'bare', {}, pinned],
    ['argon2', 'argon2', {}, pinned],
    // the runner itself is pinned to core 1, and children inherit that: name both cores
    ['sqlite-2c', 'tessera', { BENCH_DB: 'sqlite', BENCH_USERS: '1' }, pinned && '0,1'],
    ['argon2-2c', 'argon2', {}, pinned && '0,1'],
    ['argon2-http-2c', 'argon2-http', {}, pinned && '0,1'],
  ];
  const n = big.toLocaleString('en');
  const rows: Row[] = [
    { key: 'refresh-sqlite-1', label: 'refresh + rotation, SQLite, 1 user', server: 'sqlite-1', kind: 'refresh' },
    { key: 'refresh-sqlite-n', label: `refresh + rotation, SQLite, ${n} users`, server: 'sqlite-n', kind: 'refresh' },
    { key: 'refresh-pg-1', label: 'refresh + rotation, PostgreSQL, 1 user', server: 'pg-1', kind: 'refresh' },
    { key: 'refresh-pg-n', label: `refresh + rotation, PostgreSQL, ${n} users`, server: 'pg-n', kind: 'refresh' },
    { key: 'refresh-oidc', label: 'oidc-provider refresh grant (no rotation, memory)', server: 'oidc', kind: 'oidc-refresh' },
    { key: 'me-sqlite-1', label: 'GET /v1/me, Bearer, SQLite, 1 user', server: 'sqlite-1', kind: 'me' },
    { key: 'me-sqlite-n', label: `GET /v1/me, Bearer, SQLite, ${n} users`, server: 'sqlite-n', kind: 'me' },
    { key: 'bare', label: 'bare Fastify JSON route', server: 'bare', kind: 'bare' },
    { key: 'login-sqlite-1', label: `logins, 1 core, ${LOGIN_CONCURRENCY} in flight, 1 user`, server: 'sqlite-1', kind: 'login' },
    { key: 'login-sqlite-n', label: `logins, 1 core, ${LOGIN_CONCURRENCY} in flight, ${n} users`, server: 'sqlite-n', kind: 'login' },
    { key: 'argon2', label: `raw argon2 verifies, 1 core, ${LOGIN_CONCURRENCY} in flight`, server: 'argon2', kind: 'argon2' },
    { key: 'login-2c', label: `logins, 2 cores, ${LOGIN_CONCURRENCY} in flight`, server: 'sqlite-2c', kind: 'login', baseline: 'argon2-2c' },
    { key: 'argon2-2c', label: `raw argon2 verifies, 2 cores, ${LOGIN_CONCURRENCY} in flight`, server: 'argon2-2c', kind: 'argon2' },
    // not a target's baseline: the raw verifies with the login rows' HTTP load on the same two cores (INFO line)
    { key: 'argon2-http-2c', label: `raw argon2 behind a bare POST route, 2 cores, ${LOGIN_CONCURRENCY} in flight`, server: 'argon2-http-2c', kind: 'login', baseline: 'argon2-2c' },
  ];
  const only = process.argv.find((a) => a.startsWith('--server-rows='))?.slice(14).split(',');
  const selected = rows.filter((r) => !only || only.includes(r.key));
  const needed = new Set(selected.map((r) => r.server));
  const children = new Map<string, Child>();
  const results = new Map<string, Measured>();
  ensureBuilt(o.log);
  try {
    for (const [name, variant, env, cores] of servers) {
      if (!needed.has(name)) continue;
      o.log(`server ${name} (${variant}${env.BENCH_USERS ? `, ${env.BENCH_USERS} users` : ''})`);
      children.set(name, await startChild(name, variant, env, cores));
    }
    const state = await prepare(selected, children, new Map(servers.map(([name, , env]) => [name, Number(env.BENCH_USERS ?? 1)])));
    for (const row of selected) await measure(row, children.get(row.server)!, state, o.quick ? 1 : 2);
    o.log(`server rows: ${rounds} rounds of ${seconds / rounds} s per row`);
    for (let round = 0; round < rounds; round++) {
      for (const row of round % 2 === 0 ? selected : [...selected].reverse()) {
        const m = await measure(row, children.get(row.server)!, state, seconds / rounds);
        const prev = results.get(row.key);
        results.set(row.key, prev ? {
          rate: (prev.rate * round + m.rate) / (round + 1), cpu: prev.cpu + m.cpu, ops: prev.ops + m.ops, failed: prev.failed + m.failed,
          eldP99: Math.max(prev.eldP99, m.eldP99), loadCpu: prev.loadCpu + m.loadCpu, note: prev.note || m.note,
        } : m);
      }
    }
  } finally {
    await Promise.all([...children.values()].map((c) => c.stop()));
    for (const s of schemas) await dropSchema(s).catch(() => undefined);
  }
  return report(selected, results);
}

interface PreparedState {
  /** seeded users per server */
  users: Map<string, number>;
  refresh: Map<string, string[]>;
  access: Map<string, string[]>;
  emails: Map<string, string[]>;
}

async function login(port: number, email: string): Promise<{ access_token: string; refresh_token: string }> {
  const r = await request(agentFor(1), port, 'POST', '/v1/login', JSON.stringify({ email, password: PASSWORD }), { 'content-type': 'application/json', 'user-agent': 'bench' });
  if (r.status !== 200) throw new Error(`login ${r.status}: ${r.body}`);
  return JSON.parse(r.body) as { access_token: string; refresh_token: string };
}

/** refresh chains, access tokens and login emails for every server a row needs */
async function prepare(rows: Row[], children: Map<string, Child>, users: Map<string, number>): Promise<PreparedState> {
  const s: PreparedState = { users, refresh: new Map(), access: new Map(), emails: new Map() };
  for (const row of rows) {
    const c = children.get(row.server)!;
    if (row.kind === 'oidc-refresh' && !s.refresh.has(row.server)) s.refresh.set(row.server, await c.call<string[]>('tokens', { n: REFRESH_CHAINS }));
    const users = s.users.get(row.server) ?? 1;
    const email = (i: number): string => `bench-${(i * 97) % users}@example.test`;
    if ((row.kind === 'refresh' || row.kind === 'me') && !s.refresh.has(row.server)) {
      const pairs = [];
      for (let i = 0; i < Math.max(REFRESH_CHAINS, ME_CONNECTIONS); i++) pairs.push(await login(c.port, email(i)));
      s.refresh.set(row.server, pairs.slice(0, REFRESH_CHAINS).map((p) => p.refresh_token));
      s.access.set(row.server, pairs.map((p) => p.access_token));
    }
    if (row.kind === 'login') s.emails.set(row.server, Array.from({ length: Math.min(users, 1000) }, (_, i) => email(i)));
  }
  return s;
}

async function measure(row: Row, c: Child, s: PreparedState, seconds: number): Promise<Measured> {
  const cpu0 = cpuMicros(c.child.pid);
  const load0 = cpuMicros(process.pid);
  await c.call('eld-reset');
  let r: LoopResult;
  if (row.kind === 'refresh' || row.kind === 'oidc-refresh') {
    const chain = s.refresh.get(row.server)!;
    const agent = agentFor(REFRESH_CHAINS);
    const oidc = row.kind === 'oidc-refresh';
    r = await loops(REFRESH_CHAINS, seconds, async (i) => {
      const body = oidc
        ? new URLSearchParams({ grant_type: 'refresh_token', refresh_token: chain[i], client_id: 'bench', client_secret: 'bench-secret' }).toString()
        : JSON.stringify({ grant_type: 'refresh_token', refresh_token: chain[i] });
      const res = await request(agent, c.port, 'POST', oidc ? '/token' : '/v1/token', body, { 'content-type': oidc ? 'application/x-www-form-urlencoded' : 'application/json', 'user-agent': 'bench' });
      if (res.status !== 200) return { ok: false, detail: `${res.status} ${res.body.slice(0, 200)}` };
      if (!oidc) chain[i] = (JSON.parse(res.body) as { refresh_token: string }).refresh_token;
      return { ok: true };
    });
    agent.destroy();
  } else if (row.kind === 'login') {
    const emails = s.emails.get(row.server)!;
    // raw sockets: on the 2-core rows this client runs on the server's cores (http-loops.ts RawConnection)
    const conns = Array.from({ length: LOGIN_CONCURRENCY }, () => new RawConnection(c.port));
    let k = 0;
    r = await loops(LOGIN_CONCURRENCY, seconds, async (i) => {
      const res = await conns[i].post('/v1/login', JSON.stringify({ email: emails[k++ % emails.length], password: PASSWORD }));
      return res.status === 200 ? { ok: true } : { ok: false, detail: `${res.status} ${res.body.slice(0, 200)}` };
    });
    for (const conn of conns) conn.close();
  } else if (row.kind === 'argon2') {
    const rate = await c.call<number>('run', { seconds, concurrency: LOGIN_CONCURRENCY });
    r = { rate, ok: Math.round(rate * seconds), failed: 0 };
  } else {
    const tokens = row.kind === 'me' ? s.access.get(row.server)! : [''];
    const path = row.kind === 'me' ? '/v1/me' : '/hello';
    const a = await autocannon({ url: `http://127.0.0.1:${c.port}`, connections: ME_CONNECTIONS, duration: seconds, requests: tokens.map((t) => ({ method: 'GET' as const, path, headers: { authorization: `Bearer ${t}` } })) });
    r = { rate: a.requests.average, ok: a.requests.total - a.non2xx, failed: a.non2xx + a.errors + a.timeouts };
  }
  const eld = await c.call<{ p99: number }>('eld-read');
  return { rate: r.rate, cpu: cpuMicros(c.child.pid) - cpu0, ops: Math.max(1, r.ok), failed: r.failed, eldP99: eld.p99, loadCpu: cpuMicros(process.pid) - load0, note: r.firstFailure ? `first failure: ${r.firstFailure}` : '' };
}

function report(rows: Row[], m: Map<string, Measured>): string[] {
  const rate = (k: string): number => m.get(k)?.rate ?? NaN;
  const baseline: Record<Kind, string | undefined> = { refresh: 'refresh-oidc', 'oidc-refresh': undefined, me: 'bare', bare: undefined, login: 'argon2', argon2: undefined };
  // "CPU ratio": the baseline's CPU per operation over the row's, i.e. the throughput ratio of two saturated cores;
  // steadier than ops/s when the load generator's core is shared with others
  const cpuOf = (k: string): number => (m.get(k) ? m.get(k)!.cpu / m.get(k)!.ops : NaN);
  const lines = ['| server row | ops/s | vs baseline | CPU µs/op | CPU ratio | event-loop p99 ms |', '| --- | ---: | ---: | ---: | ---: | ---: |'];
  for (const row of rows) {
    const r = m.get(row.key);
    if (!r) continue;
    const base = row.baseline ?? baseline[row.kind];
    const vs = base && m.has(base) ? (r.rate / rate(base)).toFixed(3) : '';
    const eld = row.kind === 'login' || row.kind === 'argon2' ? r.eldP99.toFixed(1) : '';
    const cpuRatio = base && m.has(base) ? (cpuOf(base) / cpuOf(row.key)).toFixed(3) : '';
    lines.push(`| ${row.label} | ${Math.round(r.rate)} | ${vs} | ${(r.cpu / r.ops).toFixed(0)} | ${cpuRatio} | ${eld} |${r.failed ? ` INVALID: ${r.failed} failed; ${r.note}` : ''}`);
  }
  const ratio = (a: string, b: string): number => rate(a) / rate(b);
  const f = (x: number): string => x.toFixed(3);
  lines.push('');
  const t: Array<[string, number, number]> = [
    ['refresh with rotation, SQLite >= 1.5 x oidc-provider refresh grant', ratio('refresh-sqlite-1', 'refresh-oidc'), 1.5],
    ['refresh with rotation, PostgreSQL >= 1.0 x oidc-provider refresh grant', ratio('refresh-pg-1', 'refresh-oidc'), 1.0],
    ['GET /v1/me >= 0.25 x bare Fastify route', ratio('me-sqlite-1', 'bare'), 0.25],
    ['logins, 1 core >= 0.95 x raw argon2', ratio('login-sqlite-1', 'argon2'), 0.95],
    ['logins, 2 cores >= 0.95 x raw argon2', ratio('login-2c', 'argon2-2c'), 0.95],
    [`refresh SQLite at many users within 10 % of 1 user`, ratio('refresh-sqlite-n', 'refresh-sqlite-1'), 0.9],
    [`refresh PostgreSQL at many users within 10 % of 1 user`, ratio('refresh-pg-n', 'refresh-pg-1'), 0.9],
    [`logins at many users within 10 % of 1 user`, ratio('login-sqlite-n', 'login-sqlite-1'), 0.9],
  ];
  for (const [name, x, min] of t) lines.push(Number.isNaN(x) ? `n/a   ${name}` : `${x >= min ? 'PASS' : 'FAIL'}  ${name} (${f(x)} by ops/s)`);
  const eld = Math.max(m.get('login-sqlite-1')?.eldP99 ?? NaN, m.get('login-sqlite-n')?.eldP99 ?? NaN);
  const lg = m.get('login-2c');
  // on a 2-core machine the 2-core rows share their cores with the load generator, which the raw baseline has none of
  if (lg) lines.push(`INFO  logins, 2 cores: the load generator's CPU on the same cores, ${(lg.loadCpu / lg.ops).toFixed(0)} µs per login`);
  const http = ratio('login-2c', 'argon2-http-2c');
  if (!Number.isNaN(http)) lines.push(`INFO  logins, 2 cores / raw argon2 behind a bare POST route with the same load: ${f(http)} by ops/s`);
  lines.push(Number.isNaN(eld) ? 'n/a   event-loop p99 < 20 ms under full login load' : `${eld < 20 ? 'PASS' : 'FAIL'}  event-loop p99 < 20 ms under full login load, 1 core (${eld.toFixed(1)} ms)`);
  return lines;
}
