import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer, type ServerProcess } from '../support/process.js';
import { http } from '../support/server.js';
import { REDIS_URL, hasRedis } from '../support/services.js';
import { signUp } from '../support/users.js';

describe.skipIf(!hasRedis)('two server processes on one Redis', () => {
  let a: ServerProcess;
  let b: ServerProcess;
  let dir: string;
  const run = Date.now().toString(36);
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tessera-nodes-'));
    const env = {
      TESSERA_DATA_DIR: dir,
      TESSERA_REDIS_URL: REDIS_URL,
      TESSERA_TRUST_PROXY: 'loopback',
      TESSERA_ISSUER: 'http://localhost:3999',
      TESSERA_LOGIN_FAILURES_BEFORE_BACKOFF: '9',
    };
    a = await spawnServer(env);
    b = await spawnServer(env);
  }, 60_000);
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('share the brute-force limits: the 10th failure counts across both', async () => {
    const email = `shared-${run}@example.com`;
    const ip = `203.0.113.${(Date.now() % 200) + 20}`;
    await signUp(a, email, 'correct horse battery staple');
    const codes: number[] = [];
    for (let i = 0; i < 11; i++) {
      const node = i % 2 === 0 ? a : b;
      const r = await http(node.url, 'POST', '/v1/login', { json: { email, password: `wrong ${i}` }, headers: { 'x-forwarded-for': ip } });
      codes.push(r.status);
    }
    // 9 attempts before backoff, counted on both nodes together: the 10th (on node b) is already limited.
    expect(codes.slice(0, 9).every((c) => c === 401)).toBe(true);
    expect(codes.slice(9)).toContain(429);
    expect(codes[10]).toBe(429);
  });

  it('a session revoked on one node is refused on the other at once', async () => {
    const email = `rev-${run}@example.com`;
    await signUp(a, email, 'correct horse battery staple');
    const l = await http(a.url, 'POST', '/v1/login', { json: { email, password: 'correct horse battery staple' } });
    const auth = { authorization: `Bearer ${l.body.access_token}` };
    expect((await http(b.url, 'GET', '/v1/me', { headers: auth })).status).toBe(200);
    expect((await http(a.url, 'POST', '/v1/logout', { headers: auth })).status).toBe(204);
    expect((await http(b.url, 'GET', '/v1/me', { headers: auth })).status).toBe(401);
  });
});
