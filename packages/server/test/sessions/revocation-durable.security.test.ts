/**
 * Durable-first revocation: a revocation and its feed row commit together, and publishing the wake-up to
 * other nodes is best effort. With the shared state (its own Redis, stopped for the test) unreachable,
 * sign-outs still answer 204 and every revoked session is in the feed resource servers read.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, http, startServer, type TestServer } from '../support/server.js';
import { REQUIRE_SERVICES } from '../support/services.js';
import { signUp } from '../support/users.js';

const PASSWORD = 'correct horse battery staple';
/** the test runs its own Redis, to stop it */
const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;
if (!hasRedisServer && REQUIRE_SERVICES) throw new Error('redis-server is required (TESSERA_TEST_REQUIRE_SERVICES=1) but not installed');

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
  });
  return child;
}

describe.skipIf(!hasRedisServer)('revocations reach the feed while the shared state is down', () => {
  let s: TestServer;
  let redis: ChildProcess | undefined;
  let basic: string;
  beforeAll(async () => {
    const port = await freePort();
    redis = await startRedis(port);
    s = await startServer({ env: { TESSERA_REDIS_URL: `redis://127.0.0.1:${port}` } });
    const client = await s.t.clients.create('durable feed test');
    basic = `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`;
  });
  afterAll(async () => {
    await s?.close();
    if (redis && redis.exitCode === null && redis.signalCode === null) {
      redis.kill('SIGKILL');
      await once(redis, 'exit');
    }
  });

  it('attack: sign-outs made during a Redis outage are all in the feed; none answers 500', async () => {
    await signUp(s, 'outage@example.com', PASSWORD);
    const logins: Array<{ access_token: string; session_id: string }> = [];
    for (let i = 0; i < 4; i++) logins.push((await http(s.url, 'POST', '/v1/login', { json: { email: 'outage@example.com', password: PASSWORD } })).body);
    const head = (await http(s.url, 'GET', '/v1/revocations', { headers: { authorization: basic } })).body.cursor as number;

    redis!.kill('SIGKILL');
    await once(redis!, 'exit');

    const bearer = (i: number) => ({ authorization: `Bearer ${logins[i].access_token}` });
    expect((await http(s.url, 'POST', '/v1/logout', { headers: bearer(0) })).status).toBe(204);
    expect((await http(s.url, 'DELETE', '/v1/sessions', { headers: bearer(1) })).status).toBe(204);

    const feed = await http(s.url, 'GET', `/v1/revocations?since=${head}`, { headers: { authorization: basic } });
    expect(feed.status).toBe(200);
    const sids = (feed.body.items as Array<{ sid?: string }>).map((i) => i.sid).sort();
    expect(sids).toEqual(logins.map((l) => l.session_id).sort());
    for (let i = 0; i < 4; i++) expect((await http(s.url, 'GET', '/v1/me', { headers: bearer(i) })).status).toBe(401);
  });
});
