/**
 * One server of the server bench (bench/server-rows.ts), started pinned: `node --import tsx
 * bench/server-child.ts <variant>`, talking to the runner over IPC. Variants:
 * - `tessera`: the real server (createTessera + buildApp) on BENCH_DB (sqlite | postgres) with BENCH_USERS
 *   users and as many sessions seeded (one argon2 hash for all, inserted in batches);
 * - `oidc-provider`: the reference refresh grant (oidc-provider, in-memory adapter, no rotation);
 * - `bare`: a bare Fastify JSON route;
 * - `argon2`: raw `@node-rs/argon2` verifies at the server's parameters, `concurrency` in flight;
 * - `argon2-http`: the same verifies behind a bare Fastify route, for the HTTP load of the login rows.
 * Every variant answers {cmd: 'eld-reset' | 'eld-read'} with its event-loop delay (p99, ms), and {cmd: 'mem'}
 * with what its resident memory is made of (bench/memory.ts).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { memoryBreakdown, settle } from './memory.js';
import { ARGON2, PASSWORD } from './server-constants.js';

const variant = process.argv[2] ?? 'bare';

// On only while this server's row is measured: at 1 ms resolution it wakes its process a thousand times a
// second, and every idle server doing that on the measured server's core would slow the measured one.
const eld = monitorEventLoopDelay({ resolution: 1 });
type Msg = { cmd: string; [k: string]: unknown };
const handlers: Record<string, (m: Msg) => Promise<unknown>> = {
  'eld-reset': async () => {
    eld.reset();
    eld.enable();
  },
  'eld-read': async () => {
    eld.disable();
    return { p99: eld.percentile(99) / 1e6, max: eld.max / 1e6 };
  },
  // the breakdown first (as the server runs), then the floor after a forced full collection
  mem: async () => ({ ...memoryBreakdown(ARGON2.memoryCost), settled: await settle() }),
};
process.on('message', (m: Msg) => {
  const h = handlers[m.cmd];
  void (h ? h(m) : Promise.reject(new Error(`unknown ${m.cmd}`))).then(
    (value) => process.send?.({ id: m.id, value }),
    (err: unknown) => process.send?.({ id: m.id, error: String(err) }),
  );
});

async function tessera(): Promise<number> {
  // the built package by default (bench/child.ts: fromSource); its exports are the sources' index.ts
  const entry = process.env.BENCH_FROM_SOURCE === '1' ? '../packages/server/src/index.js' : '../packages/server/dist/index.mjs';
  const { loadConfig, createTessera, buildApp } = (await import(entry)) as typeof import('../packages/server/src/index.js');
  const db = process.env.BENCH_DB ?? 'sqlite';
  const users = Number(process.env.BENCH_USERS ?? 1);
  const dir = mkdtempSync(path.join(tmpdir(), 'tessera-bench-'));
  const url = db === 'postgres' ? `${process.env.TESSERA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'}?schema=${process.env.BENCH_PG_SCHEMA}` : `sqlite:${dir}/tessera.db`;
  const config = loadConfig({
    PORT: '0', TESSERA_DATA_DIR: dir, TESSERA_DATABASE_URL: url, TESSERA_LOG_LEVEL: 'silent',
    TESSERA_ARGON2_MEMORY_KIB: String(ARGON2.memoryCost), TESSERA_ARGON2_TIME_COST: String(ARGON2.timeCost),
    TESSERA_RATE_LIMIT_PER_SECOND: '1000000', TESSERA_LOGIN_LIMIT_PER_IP: '1000000', TESSERA_ACCESS_TTL: '86400',
    TESSERA_ACCOUNT_FAILURES_PER_DAY: '1000000',
    // 16 logins of one account in flight are 16 attempts before the first success resets the count
    TESSERA_LOGIN_FAILURES_BEFORE_BACKOFF: '100',
    // the soak (bench/soak.ts) shortens lifetimes and retention through the environment
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('TESSERA_') && !k.startsWith('TESSERA_TEST_'))),
  });
  const t = await createTessera(config);
  await seed(t, users);
  const app = await buildApp(t, { logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  handlers['db-size'] = async () => dbSize(t.store, dir);
  process.on('SIGTERM', () =>
    void app.close().then(() => t.close()).finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    }),
  );
  const a = app.server.address();
  return typeof a === 'object' && a ? a.port : 0;
}

/** `n` accounts bench-<i>@example.test (one shared hash) and one live session each, in batches */
async function seed(t: { store: unknown; hasher: { hash(p: string): Promise<string> } }, n: number): Promise<void> {
  const { db, dialect } = t.store as import('../packages/server/src/store/connect.js').SqlStore;
  const hash = await t.hasher.hash(PASSWORD);
  const now = Date.now();
  for (let i = 0; i < n; i += 1000) {
    const ids = Array.from({ length: Math.min(1000, n - i) }, (_, k) => i + k);
    await db.insertInto('users').values(ids.map((k) => ({ id: `usr_bench${k}`, email: `bench-${k}@example.test`, passwordHash: hash, isAdmin: 0, passwordResetRequired: 0, createdAt: now, emailVerifiedAt: now, legacy: 0, disabledAt: null }))).execute();
    await db.insertInto('sessions').values(ids.map((k) => ({
      id: `ses_bench${k}`, userId: `usr_bench${k}`, createdAt: now, lastSeenAt: now, expiresAt: now + 86_400_000, ip: '127.0.0.1', geo: null,
      userAgent: 'seed', amr: '["pwd"]', authTime: now, dpopJkt: null, transport: 'bearer' as const, revokedAt: null, revokeReason: null,
    }))).execute();
  }
  if (dialect === 'postgres') {
    // Measure the steady state, not the bulk load's aftermath: without this, autovacuum's analyze of the
    // seeded tables and the checkpoint writing their pages out land in the middle of the rounds (and the
    // commits of every PostgreSQL row wait behind those writes).
    const { sql } = await import('kysely');
    for (const table of ['users', 'sessions', 'refresh_tokens']) await sql`analyze ${sql.table(table)}`.execute(db);
    await sql`checkpoint`.execute(db);
  }
}

async function dbSize(store: unknown, dir: string): Promise<number> {
  const { db, dialect } = store as import('../packages/server/src/store/connect.js').SqlStore;
  const { sql } = await import('kysely');
  if (dialect === 'postgres') return Number((await sql<{ n: string }>`select sum(pg_total_relation_size(quote_ident(table_name))) as n from information_schema.tables where table_schema = current_schema()`.execute(db)).rows[0]?.n ?? 0);
  const { statSync, existsSync } = await import('node:fs');
  const f = (p: string): number => (existsSync(p) ? statSync(p).size : 0);
  return f(`${dir}/tessera.db`) + f(`${dir}/tessera.db-wal`);
}

async function oidcProvider(): Promise<number> {
  // oidc-provider ships no types: the few members used here
  interface Saved { save(): Promise<string> }
  interface OidcProvider {
    on(event: string, f: (ctx: unknown, err: unknown) => void): void;
    listen(port: number): import('node:http').Server;
    Client: { find(id: string): Promise<unknown> };
    Grant: new (o: { accountId: string; clientId: string }) => Saved & { addOIDCScope(s: string): void };
    RefreshToken: new (o: Record<string, unknown>) => Saved;
  }
  const oidcModule = 'oidc-provider';
  const { default: Provider } = (await import(oidcModule)) as { default: new (issuer: string, config: Record<string, unknown>) => OidcProvider };
  const provider = new Provider('http://127.0.0.1', {
    clients: [{ client_id: 'bench', client_secret: 'bench-secret', grant_types: ['authorization_code', 'refresh_token'], redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'client_secret_post' }],
    findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
    rotateRefreshToken: false,
    scopes: ['openid', 'offline_access'],
  });
  provider.on('server_error', (_ctx: unknown, err: unknown) => process.stderr.write(`oidc-provider: ${String(err)}\n`));
  handlers['tokens'] = async (m) => {
    const client = await provider.Client.find('bench');
    const out: string[] = [];
    for (let i = 0; i < Number(m.n); i++) {
      const grant = new provider.Grant({ accountId: `acct${i}`, clientId: 'bench' });
      grant.addOIDCScope('openid offline_access');
      const grantId = await grant.save();
      const rt = new provider.RefreshToken({ accountId: `acct${i}`, client, grantId, scope: 'openid offline_access', gty: 'authorization_code' });
      out.push(await rt.save());
    }
    return out;
  };
  const server = provider.listen(0);
  await new Promise((r) => server.once('listening', r));
  const a = server.address();
  return typeof a === 'object' && a ? a.port : 0;
}

async function bare(): Promise<number> {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false });
  app.get('/hello', async () => ({ hello: 'world' }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const a = app.server.address();
  return typeof a === 'object' && a ? a.port : 0;
}

async function argon2(): Promise<number> {
  const { hash, verify } = await import('@node-rs/argon2');
  const stored = await hash(PASSWORD, { algorithm: 2, ...ARGON2 });
  handlers['run'] = async (m) => {
    const until = Date.now() + Number(m.seconds) * 1000;
    let done = 0;
    const worker = async (): Promise<void> => {
      while (Date.now() < until) {
        if (!(await verify(stored, PASSWORD))) throw new Error('verify failed');
        done++;
      }
    };
    const t0 = Date.now();
    await Promise.all(Array.from({ length: Number(m.concurrency) }, worker));
    return done / ((Date.now() - t0) / 1000);
  };
  return 0;
}

/**
 * Raw argon2 behind a bare Fastify route (`POST /v1/login`, the password checked against one hash, no
 * bound): what the raw verifies become once an HTTP client sends them, the load generator's work included.
 */
async function argon2Http(): Promise<number> {
  const [{ default: Fastify }, { hash, verify }] = await Promise.all([import('fastify'), import('@node-rs/argon2')]);
  const stored = await hash(PASSWORD, { algorithm: 2, ...ARGON2 });
  const app = Fastify({ logger: false });
  app.post('/v1/login', async (request, reply) => {
    const ok = await verify(stored, (request.body as { password: string }).password);
    return ok ? { ok } : reply.code(401).send({ ok });
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const a = app.server.address();
  return typeof a === 'object' && a ? a.port : 0;
}

const starters: Record<string, () => Promise<number>> = { tessera, 'oidc-provider': oidcProvider, bare, argon2, 'argon2-http': argon2Http };
const start = starters[variant];
if (!start) throw new Error(`unknown variant ${variant}`);
const port = await start();
process.stdout.write(`listening ${port}\n`);
