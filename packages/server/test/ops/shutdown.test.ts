/**
 * SIGTERM under load with an SDK subscribed to the node's revocation stream: /readyz turns 503 before the
 * listener closes, every in-flight request is answered, the process exits 0 within
 * TESSERA_SHUTDOWN_GRACE + 1 s, and the SDK reconnects to the other node and stays fresh.
 */
import type { TesseraVerifier } from '@tessera/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusedWithin, sdkFor } from '../support/faults/checks.js';
import { startCluster, type Cluster } from '../support/faults/cluster.js';
import { startMixedLoad, type MixedLoad } from '../support/faults/mixed-load.js';
import { hasPgBinaries } from '../support/faults/postgres.js';
import { hasRedisBinary } from '../support/faults/redis.js';
import { http } from '../support/server.js';
import { signUp } from '../support/users.js';

const GRACE_SEC = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!(hasPgBinaries && hasRedisBinary))('SIGTERM drains a node', () => {
  let cluster: Cluster;
  let load: MixedLoad;
  let sdk: TesseraVerifier;
  beforeAll(async () => {
    cluster = await startCluster({ env: { TESSERA_SHUTDOWN_GRACE: String(GRACE_SEC) } });
    sdk = sdkFor(cluster);
    await sdk.ready();
    load = startMixedLoad(cluster.proxy.url, { workers: 3, mailbox: { dataDirs: cluster.nodes.map((n) => n.dataDir!) } });
    await sleep(1500);
  }, 240_000);
  afterAll(async () => {
    await load?.stop();
    await sdk?.close();
    await cluster?.destroy();
  }, 60_000);

  it('readiness 503 first, in-flight requests answered, exit 0 within grace + 1 s, the SDK moves on', async () => {
    // SIGTERM goes to the node the SDK's revocation stream is on
    const streamOn = cluster.proxy.openStreams();
    expect(streamOn).toHaveLength(1);
    const node = cluster.nodes.find((n) => n.url === streamOn[0]);
    if (!node) throw new Error(`no node serves the stream (${streamOn.join(', ')})`);
    const probes: Array<{ at: number; status: number }> = [];
    let probing = true;
    const prober = (async () => {
      while (probing) {
        const at = Date.now();
        const status = await fetch(`${node.url}/readyz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.status, () => 0);
        probes.push({ at, status });
        await sleep(20);
      }
    })();
    await sleep(200);
    const exited = new Promise<{ code: number | null; at: number }>((resolve) => node.child.once('exit', (code) => resolve({ code, at: Date.now() })));
    const from = Date.now();
    node.child.kill('SIGTERM');
    const exit = await exited;
    probing = false;
    await prober;

    expect(exit.code).toBe(0);
    expect(exit.at - from).toBeLessThanOrEqual((GRACE_SEC + 1) * 1000);
    const first503 = probes.find((p) => p.at >= from && p.status === 503);
    const firstRefused = probes.find((p) => p.at >= from && p.status === 0);
    expect(first503, 'readiness turned 503').toBeDefined();
    expect(firstRefused, 'the listener closed').toBeDefined();
    expect(first503!.at).toBeLessThan(firstRefused!.at);

    // every request of the load was answered by a node: no connection lost, no 500
    const during = load.record.answers.filter((a) => a.at >= from - 1000);
    expect(during.filter((a) => a.status === 0 || a.status === 502 || a.status === 500)).toEqual([]);

    // The SDK's stream was ended; it reconnected through the proxy to the other node and stays fresh.
    const email = `after-sigterm-${Date.now()}@example.test`;
    const password = 'correct horse battery staple 12';
    await signUp(cluster.proxy, email, password, { dataDirs: cluster.nodes.map((n) => n.dataDir!) });
    const login = await http(cluster.proxy.url, 'POST', '/v1/login', { json: { email, password } });
    await expect(sdk.verify(login.body.access_token)).resolves.toMatchObject({ sid: login.body.session_id });
    const t = Date.now();
    expect((await http(cluster.proxy.url, 'POST', '/v1/logout', { headers: { authorization: `Bearer ${login.body.access_token}` } })).status).toBe(204);
    const [refused] = await refusedWithin(sdk, [{ at: t, sid: login.body.session_id, accessToken: login.body.access_token }], Date.now(), 1000);
    expect(refused?.ms).toBeDefined();
    expect(sdk.isHealthy()).toBe(true);
    expect(sdk.stats().feed?.connects).toBeGreaterThanOrEqual(2);
  }, 120_000);
});
