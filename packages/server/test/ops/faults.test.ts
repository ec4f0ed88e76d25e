/**
 * Two nodes under a steady mixed load, then each fault in turn on the test's own PostgreSQL and Redis:
 * kill -9 of a node, Redis stopped, PostgreSQL restarted, PostgreSQL stopped. For each: no 500 (503 with
 * Retry-After while a dependency is down), every revocation made during the fault refused by the SDK within
 * 1 s of its end (within 1 s during it when only Redis is down), both nodes serving again within 5 s of
 * recovery without a restart; at the end nothing committed is lost. Short outages here (seconds);
 * `npm run load -- --faults` runs the long form (TESSERA_FAULTS=long: Redis 10 s, PostgreSQL 15 s).
 */
import type { TesseraVerifier } from '@tessera/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkWindow } from '../support/faults/window.js';
import { lossCheck, sdkFor, watchRevocations } from '../support/faults/checks.js';
import { startCluster, type Cluster } from '../support/faults/cluster.js';
import { startMixedLoad, type MixedLoad } from '../support/faults/mixed-load.js';
import { hasPgBinaries } from '../support/faults/postgres.js';
import { hasRedisBinary } from '../support/faults/redis.js';
import { REQUIRE_SERVICES } from '../support/services.js';

const LONG = process.env.TESSERA_FAULTS === 'long';
const REDIS_DOWN_MS = LONG ? 10_000 : 3_000;
const REDIS_DOWN_MAX_MS = 30_000;
const MIN_LOGOUTS_DURING = 3;
const PG_DOWN_MS = LONG ? 15_000 : 4_000;
const STEADY_MS = LONG ? 10_000 : 1_500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const available = hasPgBinaries && hasRedisBinary;
if (!available && REQUIRE_SERVICES) throw new Error('the fault tests need initdb/pg_ctl and redis-server on this machine');

describe.skipIf(!available)('two nodes under load survive each fault', () => {
  let cluster: Cluster;
  let load: MixedLoad;
  let sdk: TesseraVerifier;
  const figures: Record<string, unknown> = {};

  beforeAll(async () => {
    cluster = await startCluster();
    sdk = sdkFor(cluster);
    await sdk.ready();
    load = startMixedLoad(cluster.proxy.url, { workers: 3, mailbox: { dataDirs: cluster.nodes.map((n) => n.dataDir!) } });
    await sleep(STEADY_MS);
  }, 240_000);
  // Each fault is judged on its own: a node that crashed in an earlier one is started again first.
  let crashesBefore = 0;
  beforeEach(async () => {
    for (let i = 0; i < cluster.nodes.length; i++) {
      const child = cluster.nodes[i].child;
      if (child.exitCode !== null || child.signalCode !== null) await cluster.restart(i);
    }
    crashesBefore = cluster.crashes.length;
  }, 120_000);
  const newCrashes = () => cluster.crashes.slice(crashesBefore);
  afterAll(async () => {
    await load?.stop();
    await sdk?.close();
    await cluster?.destroy();
    console.log(`fault figures: ${JSON.stringify(figures)}`);
  }, 60_000);

  it('kill -9 of a node: the other keeps serving, the restarted one serves again', async () => {
    const from = Date.now();
    await cluster.kill(0);
    await sleep(STEADY_MS);
    const restartMs = await cluster.restart(0);
    const to = Date.now();
    const w = await checkWindow(cluster, sdk, load.record, from, to, { revokedWithinMs: 1000 });
    figures.kill = { restartMs, ...w.figures };
    expect(w.serverErrors).toEqual([]);
    expect(w.unavailableWithoutRetryAfter).toEqual([]);
    expect(w.notRefused).toEqual([]);
    expect(w.notServing).toEqual([]);
    expect(w.answeredDuring, 'the surviving node kept serving').toBeGreaterThan(0);
    expect(newCrashes()).toEqual([]);
  }, 180_000);

  it(`Redis stopped ${REDIS_DOWN_MS / 1000} s: logouts still succeed and reach the SDK within 1 s, during the outage too`, async () => {
    const from = Date.now();
    const watcher = watchRevocations(sdk, load.record, 1000);
    await cluster.redis.stop();
    const downAt = Date.now();
    await sleep(REDIS_DOWN_MS);
    // On a loaded CI host a load cycle (sign-up, mailed link, login, refresh, logout) can take longer than
    // the short outage; the outage then lasts until a few logouts were made during it, so the promise
    // "revoked within 1 s during the outage too" is always checked on real logouts, never on none.
    while (load.record.logouts.filter((l) => l.at >= downAt).length < MIN_LOGOUTS_DURING && Date.now() - downAt < REDIS_DOWN_MAX_MS) await sleep(100);
    const duringRefusals = await watcher.stop();
    await cluster.redis.start();
    const to = Date.now();
    const w = await checkWindow(cluster, sdk, load.record, from, to, { revokedWithinMs: 1000 });
    const logoutAnswers = w.answers.filter((a) => a.route === 'logout');
    figures.redis = { ...w.figures, logoutStatuses: countBy(logoutAnswers.map((a) => a.status)) };
    expect(w.serverErrors).toEqual([]);
    expect(w.unavailableWithoutRetryAfter).toEqual([]);
    // Redis is not needed to revoke: the revocation is durable in the database first
    expect(logoutAnswers.filter((a) => a.status !== 204)).toEqual([]);
    expect(duringRefusals.length, `logouts were made while Redis was down (answers: ${JSON.stringify(w.figures.statuses)})`).toBeGreaterThanOrEqual(MIN_LOGOUTS_DURING);
    expect(duringRefusals.filter((r) => r.ms === undefined)).toEqual([]);
    expect(w.notRefused).toEqual([]);
    expect(w.notServing).toEqual([]);
    expect(newCrashes()).toEqual([]);
  }, 180_000);

  it('PostgreSQL restarted: no node crashes, both serve again within 5 s', async () => {
    const from = Date.now();
    await cluster.pg.restart();
    const to = Date.now();
    const w = await checkWindow(cluster, sdk, load.record, from, to, { revokedWithinMs: 1000 });
    figures.pgRestart = w.figures;
    expect(newCrashes()).toEqual([]);
    expect(w.serverErrors).toEqual([]);
    expect(w.unavailableWithoutRetryAfter).toEqual([]);
    expect(w.notRefused).toEqual([]);
    expect(w.notServing).toEqual([]);
  }, 180_000);

  it(`PostgreSQL stopped ${PG_DOWN_MS / 1000} s: 503 with Retry-After meanwhile, serving again within 5 s`, async () => {
    const from = Date.now();
    await cluster.pg.stop();
    await sleep(PG_DOWN_MS);
    await cluster.pg.start();
    const to = Date.now();
    const w = await checkWindow(cluster, sdk, load.record, from, to, { revokedWithinMs: 1000 });
    figures.pgStop = w.figures;
    expect(newCrashes()).toEqual([]);
    expect(w.serverErrors).toEqual([]);
    expect(w.unavailableWithoutRetryAfter).toEqual([]);
    expect(w.answers.some((a) => a.status === 503), 'requests needing the database were refused with 503').toBe(true);
    expect(w.notRefused).toEqual([]);
    expect(w.notServing).toEqual([]);
  }, 180_000);

  it('nothing committed was lost: every 201 account, every 200 session, every logout revoked and in the feed', async () => {
    await load.stop();
    const loss = await lossCheck(cluster, load.record);
    figures.loss = { accounts: loss.accounts, sessions: loss.sessions, logouts: loss.logouts };
    expect(loss.accounts).toBeGreaterThan(0);
    expect(loss.missingAccounts).toEqual([]);
    expect(loss.missingSessions).toEqual([]);
    expect(loss.logoutsNotRevoked).toEqual([]);
    expect(loss.logoutsNotInFeed).toEqual([]);
  }, 60_000);
});

function countBy(values: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
