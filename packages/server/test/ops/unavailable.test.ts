/**
 * A dependency down is 503 `service_unavailable` with Retry-After, never a 500; the node serves again by
 * itself when the dependency returns; the outage is logged once with its duration; attempts that failed on
 * the server do not spend the user's login budget. Real PostgreSQL (the test's own, stopped and started)
 * and real drivers' errors for the classifier.
 */
import { Writable } from 'node:stream';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { pino } from 'pino';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_OPTIONS } from '../../src/lib/log.js';
import { isUnavailable } from '../../src/lib/unavailable.js';
import { toTesseraError } from '../../src/http/problem.js';
import { hasPgBinaries, startOwnPostgres, type OwnPostgres } from '../support/faults/postgres.js';
import { freePort, http, startServer, type TestServer } from '../support/server.js';
import { signUp } from '../support/users.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('connection-class errors of the real drivers are recognised', () => {
  it('pg, mysql2 and ioredis against a closed port; a plain bug is not', async () => {
    const port = await freePort();
    const pgErr = await new pg.Client({ host: '127.0.0.1', port, user: 'x', database: 'x' }).connect().catch((e: unknown) => e);
    const myErr = await mysql.createConnection({ host: '127.0.0.1', port, user: 'x' }).catch((e: unknown) => e);
    const redis = new Redis(port, '127.0.0.1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => undefined);
    const redisErr = await redis.connect().then(() => redis.ping()).catch((e: unknown) => e);
    const offline = await redis.ping().catch((e: unknown) => e);
    redis.disconnect();
    for (const err of [pgErr, myErr, redisErr, offline]) expect(isUnavailable(err), String(err)).toBe(true);
    expect(isUnavailable(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(false);
    expect(isUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    // wrapped by a caller: the cause chain is followed
    expect(isUnavailable(new Error('store failed', { cause: pgErr }))).toBe(true);
  });

  it('maps to 503 service_unavailable with Retry-After; the reason stays internal', () => {
    const te = toTesseraError(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }));
    expect(te.status).toBe(503);
    expect(te.code).toBe('service_unavailable');
    expect(te.headers['Retry-After']).toMatch(/^\d+$/);
    expect(te.detail).toBeUndefined();
  });
});

describe.skipIf(!hasPgBinaries)('PostgreSQL stopped under a running node', () => {
  let db: OwnPostgres;
  let s: TestServer;
  const lines: string[] = [];
  const password = 'correct horse battery staple 12';
  beforeAll(async () => {
    db = await startOwnPostgres();
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    s = await startServer({
      env: { TESSERA_DATABASE_URL: `${db.url}?schema=ops`, TESSERA_LOGIN_FAILURES_BEFORE_BACKOFF: '3' },
      log: pino({ level: 'info', ...LOG_OPTIONS }, sink),
      logger: true,
    });
    await signUp(s, 'down@example.com', password);
  }, 120_000);
  afterAll(async () => {
    await s?.close().catch(() => undefined);
    await db?.destroy();
  });

  it('answers 503 with Retry-After (never 500), recovers by itself, logs the outage once, spends no login budget', async () => {
    await db.stop();
    const answers = [];
    for (let i = 0; i < 6; i++) {
      const r = await http(s.url, 'POST', '/v1/login', { json: { email: 'down@example.com', password } });
      answers.push(r);
    }
    answers.push(await http(s.url, 'POST', '/v1/accounts', { json: { email: 'new@example.com', password } }));
    for (const r of answers) {
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      expect(r.body.code).toBe('service_unavailable');
      expect(JSON.stringify(r.body)).not.toMatch(/ECONNREFUSED|5432|postgres|stack/i);
    }
    expect((await http(s.url, 'GET', '/readyz')).status).toBe(503);
    await sleep(1500);

    const back = Date.now();
    await db.start();
    let login = await http(s.url, 'POST', '/v1/login', { json: { email: 'down@example.com', password } });
    while (login.status === 503 && Date.now() - back < 5000) {
      await sleep(100);
      login = await http(s.url, 'POST', '/v1/login', { json: { email: 'down@example.com', password } });
    }
    // six failed-on-the-server attempts, backoff after three: still not rate-limited
    expect(login.status).toBe(200);
    expect(Date.now() - back).toBeLessThan(5000);
    await sleep(1500);
    const down = lines.filter((l) => l.includes('database unreachable'));
    const up = lines.filter((l) => l.includes('database reachable again after'));
    expect(down).toHaveLength(1);
    expect(up).toHaveLength(1);
    expect(JSON.parse(up[0]).outageSeconds).toBeGreaterThan(1);
    // every line of one request carries its request id
    const refused = lines.map((l) => JSON.parse(l) as { reqId?: string; msg?: string }).filter((l) => l.msg === 'dependency unavailable');
    expect(refused.length).toBeGreaterThan(0);
    for (const l of refused) expect(l.reqId).toMatch(/^[0-9a-f-]{36}$/);
  }, 60_000);
});
