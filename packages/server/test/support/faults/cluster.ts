/**
 * Two (or N) real `tessera serve` nodes on the test's own PostgreSQL and Redis, behind the round-robin
 * proxy, sharing one key-encryption key and one issuer (the proxy's URL), as a deployment runs them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { sha256 } from '../../../src/core/crypto.js';
import { spawnServer, type ServerProcess } from '../process.js';
import { freePort } from '../server.js';
import { startOwnPostgres, type OwnPostgres } from './postgres.js';
import { startProxy, type Proxy } from './proxy.js';
import { startOwnRedis, type OwnRedis } from './redis.js';

export interface Cluster {
  pg: OwnPostgres;
  redis: OwnRedis;
  proxy: Proxy;
  nodes: ServerProcess[];
  /** a resource-server client for the SDK's revocation feed */
  client: { id: string; secret: string };
  /** a fresh connection to the cluster's database (the caller ends it) */
  db(): Promise<pg.Client>;
  /** SIGKILL of node i; resolves once it is gone */
  kill(i: number): Promise<void>;
  /** starts node i again on its port; resolves when it answers /healthz, with the milliseconds it took */
  restart(i: number): Promise<number>;
  /** nodes that exited without being asked to, since the start */
  crashes: string[];
  destroy(): Promise<void>;
}

const SCHEMA = 'tessera';

/** One deployment's configuration, the same on every node: shared KEK, the proxy as issuer, high limits. */
function nodeEnv(pgi: OwnPostgres, redis: OwnRedis, proxy: Proxy, nodes: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TESSERA_DATABASE_URL: `${pgi.url}?schema=${SCHEMA}`,
    TESSERA_REDIS_URL: redis.url,
    TESSERA_ISSUER: proxy.url,
    TESSERA_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
    TESSERA_TRUST_PROXY: 'loopback',
    TESSERA_EXPECTED_NODES: String(nodes),
    TESSERA_RATE_LIMIT_PER_SECOND: '100000',
    TESSERA_LOGIN_LIMIT_PER_IP: '1000000',
    TESSERA_ARGON2_MEMORY_KIB: '19456',
    TESSERA_ARGON2_TIME_COST: '2',
    TESSERA_SHUTDOWN_GRACE: '5',
    ...extra,
  };
}

/** A resource-server client for the SDK, written straight into the database. */
async function registerClient(db: () => Promise<pg.Client>): Promise<{ id: string; secret: string }> {
  const client = { id: `rs_${randomUUID().slice(0, 8)}`, secret: randomBytes(32).toString('base64url') };
  const c = await db();
  try {
    await c.query('insert into clients (id, name, secret_hash, created_at) values ($1, $2, $3, $4)', [client.id, 'fault tests', sha256(client.secret), Date.now()]);
  } finally {
    await c.end();
  }
  return client;
}

export async function startCluster(opts: { nodes?: number; env?: Record<string, string> } = {}): Promise<Cluster> {
  const [pgi, redis] = await Promise.all([startOwnPostgres(), startOwnRedis()]);
  const proxy = await startProxy([]);
  const dir = await mkdtemp(path.join(tmpdir(), 'tessera-cluster-'));
  const ports = await Promise.all(Array.from({ length: opts.nodes ?? 2 }, () => freePort()));
  const crashes: string[] = [];
  const stopping = new Set<number>();
  const env = nodeEnv(pgi, redis, proxy, ports.length, opts.env);
  const spawnNode = async (i: number): Promise<ServerProcess> => {
    const node = await spawnServer({ ...env, TESSERA_DATA_DIR: path.join(dir, `node${i}`) }, ports[i], { startTimeoutMs: 90_000 });
    node.child.once('exit', (code, signal) => {
      if (!stopping.has(i)) crashes.push(`node ${i} exited (${code ?? signal}): ${node.output().slice(-2000)}`);
      stopping.delete(i);
    });
    return node;
  };
  // one node first, so the second does not compete for the very first migration on a 2-core machine
  const nodes: ServerProcess[] = [await spawnNode(0)];
  for (let i = 1; i < ports.length; i++) nodes.push(await spawnNode(i));
  proxy.setBackends(nodes.map((n) => n.url));

  const db = async () => {
    const c = new pg.Client({ connectionString: pgi.url, options: `-c search_path=${SCHEMA}` });
    await c.connect();
    return c;
  };
  const client = await registerClient(db);

  return {
    pg: pgi,
    redis,
    proxy,
    nodes,
    client,
    db,
    crashes,
    kill: async (i) => {
      const n = nodes[i];
      if (!n || n.child.exitCode !== null || n.child.signalCode !== null) return;
      stopping.add(i);
      const gone = new Promise((r) => n.child.once('exit', r));
      n.child.kill('SIGKILL');
      await gone;
    },
    restart: async (i) => {
      const t0 = Date.now();
      nodes[i] = await spawnNode(i);
      return Date.now() - t0;
    },
    destroy: async () => {
      for (let i = 0; i < nodes.length; i++) stopping.add(i);
      await Promise.all(nodes.map((n) => n.stop()));
      await proxy.close();
      await Promise.all([pgi.destroy(), redis.destroy()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Whether node `url` serves a request that needs the database (a sign-up), polled until `timeoutMs`. */
export async function serving(url: string, timeoutMs: number): Promise<number | undefined> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    try {
      const res = await fetch(`${url}/v1/accounts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `probe-${randomUUID()}@example.test`, password: 'correct horse battery staple 12' }),
        signal: AbortSignal.timeout(2000),
      });
      if (res.status === 202) return Date.now() - t0;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}
