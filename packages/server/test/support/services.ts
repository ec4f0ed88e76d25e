/**
 * Real PostgreSQL, MariaDB and Redis for tests. Locally (a laptop without them) those suites skip with a one-line
 * reason; with TESSERA_TEST_REQUIRE_SERVICES=1 (set by .ci/run) an unreachable service fails the run instead.
 */
import net from 'node:net';

export const PG_URL = process.env.TESSERA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** a MariaDB/MySQL server (no database in the path: each test run creates its own database and drops it) */
export const MYSQL_URL = (process.env.TESSERA_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/+$/, '');
export const REDIS_URL = process.env.TESSERA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const REQUIRE_SERVICES = process.env.TESSERA_TEST_REQUIRE_SERVICES === '1';

function reachable(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect({ host: u.hostname || '127.0.0.1', port: Number(u.port || defaultPort) });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

async function check(name: string, url: string, port: number): Promise<boolean> {
  const ok = await reachable(url, port);
  if (!ok && REQUIRE_SERVICES) throw new Error(`${name} at ${url} is required (TESSERA_TEST_REQUIRE_SERVICES=1) but unreachable`);
  if (!ok) console.warn(`skipping ${name} tests: ${url} unreachable (set TESSERA_TEST_REQUIRE_SERVICES=1 to fail instead)`);
  return ok;
}

export const hasPostgres = await check('PostgreSQL', PG_URL, 5432);
export const hasMysql = await check('MariaDB', MYSQL_URL, 3306);
export const hasRedis = await check('Redis', REDIS_URL, 6379);
