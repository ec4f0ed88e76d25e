/**
 * Security review, item 15 (parts): `/metrics` is not open to the world, malformed client credentials are
 * a 401 and not a logged server error, and an email is validated after it is normalised.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturingLog } from '../support/logs.js';
import { http, startServer, type TestServer } from '../support/server.js';

const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';

describe('/metrics without TESSERA_METRICS_TOKEN: loopback peers only', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ env: { TESSERA_TRUST_PROXY: 'loopback' } });
  });
  afterAll(async () => s?.close());

  it('answers a loopback peer, refuses any other, and X-Forwarded-For cannot fake loopback', async () => {
    expect((await http(s.url, 'GET', '/metrics')).status).toBe(200);
    const remote = await s.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.7' });
    expect(remote.statusCode).toBe(403);
    expect(remote.body).not.toContain('tessera_http_requests_total');
    const spoofed = await s.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.7', headers: { 'x-forwarded-for': '127.0.0.1' } });
    expect(spoofed.statusCode).toBe(403);
  });
});

describe('/metrics with TESSERA_METRICS_TOKEN', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ env: { TESSERA_METRICS_TOKEN: METRICS_TOKEN } });
  });
  afterAll(async () => s?.close());

  it('needs the bearer token, from anywhere (loopback included)', async () => {
    const none = await http(s.url, 'GET', '/metrics');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await http(s.url, 'GET', '/metrics', { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);
    const ok = await s.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.7', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('tessera_http_requests_total');
  });
});

describe('client credentials and emails', () => {
  let s: TestServer;
  const { log, lines } = capturingLog('info');
  beforeAll(async () => {
    s = await startServer({ log, logger: true });
  });
  afterAll(async () => s?.close());

  it('a malformed percent-encoding in HTTP Basic answers 401 invalid_client, with no error logged', async () => {
    for (const creds of ['rs_%zz:secret', 'rs_x:%E0%A4%A', '%:%']) {
      const r = await http(s.url, 'GET', '/v1/revocations', { headers: { authorization: `Basic ${Buffer.from(creds).toString('base64')}` } });
      expect(r.status).toBe(401);
      expect(r.body.code).toBe('invalid_client');
    }
    const errors = lines.map((l) => JSON.parse(l) as { level: number }).filter((l) => l.level >= 50);
    expect(errors).toEqual([]);
  });

  it('an email is normalised before it is validated: a full-width ＠ cannot smuggle in a second @', async () => {
    const r = await http(s.url, 'POST', '/v1/accounts', { json: { email: 'x＠corp@evil.example', password: 'correct horse battery staple' } });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('invalid_request');
    expect(await s.t.store.getUserByEmail('x@corp@evil.example')).toBeUndefined();
    // Other compatibility forms still normalise to one plain address.
    const ok = await http(s.url, 'POST', '/v1/accounts', { json: { email: ' Ｗide@Example.COM ', password: 'correct horse battery staple' } });
    expect(ok.status).toBeLessThan(300);
    expect((await s.t.store.getUserByEmail('wide@example.com'))?.email).toBe('wide@example.com');
  });
});
