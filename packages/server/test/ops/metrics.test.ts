/** The metrics an operator needs, counted from real requests; a request id on every answer. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startServer, type TestServer } from '../support/server.js';
import { signUp, verifyEmail } from '../support/users.js';

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(async () => s?.close());

  it('counts requests by route and status, latency, logins by outcome, revocations, rate-limit hits, dependencies, event loop', async () => {
    const password = 'correct horse battery staple 12';
    const created = await http(s.url, 'POST', '/v1/accounts', { json: { email: 'metrics@example.com', password } });
    expect(created.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    await verifyEmail(s, 'metrics@example.com');
    await http(s.url, 'POST', '/v1/login', { json: { email: 'metrics@example.com', password: 'wrong password 1234' } });
    const login = await http(s.url, 'POST', '/v1/login', { json: { email: 'metrics@example.com', password } });
    expect((await http(s.url, 'POST', '/v1/logout', { headers: { authorization: `Bearer ${login.body.access_token}` } })).status).toBe(204);
    await s.t.dependencies.probe();

    const res = await fetch(`${s.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(value(text, 'tessera_http_requests_total{method="POST",route="/v1/login",status="200"}')).toBe(1);
    expect(value(text, 'tessera_http_requests_total{method="POST",route="/v1/login",status="401"}')).toBe(1);
    expect(value(text, 'tessera_http_request_duration_seconds_count{method="POST",route="/v1/accounts"}')).toBe(1);
    expect(value(text, 'tessera_logins_total{outcome="succeeded"}')).toBe(1);
    expect(value(text, 'tessera_logins_total{outcome="failed"}')).toBe(1);
    expect(value(text, 'tessera_revocations_total{cause="logout"}')).toBe(1);
    expect(value(text, 'tessera_dependency_up{dependency="database"}')).toBe(1);
    expect(text).toContain('# TYPE tessera_rate_limit_hits_total counter');
    expect(text).toContain('# TYPE tessera_refresh_token_reuse_total counter');
    expect(text).toContain('# TYPE tessera_risk_verdicts_total counter');
    expect(text).toContain('# TYPE tessera_dependency_outage_seconds_total counter');
    expect(text).toMatch(/^tessera_nodejs_eventloop_lag_p99_seconds \d/m);
  });

  it('a refresh-token replay counts as reuse and as a revocation', async () => {
    const password = 'correct horse battery staple 12';
    await signUp(s, 'reuse@example.com', password);
    const login = await http(s.url, 'POST', '/v1/login', { json: { email: 'reuse@example.com', password } });
    const form = { grant_type: 'refresh_token', refresh_token: login.body.refresh_token as string };
    expect((await http(s.url, 'POST', '/v1/token', { form })).status).toBe(200);
    // a different client, outside the same-client grace: reuse
    expect((await http(s.url, 'POST', '/v1/token', { form, headers: { 'user-agent': 'thief' } })).status).toBe(401);
    const text = await (await fetch(`${s.url}/metrics`)).text();
    expect(value(text, 'tessera_refresh_token_reuse_total')).toBe(1);
    expect(value(text, 'tessera_revocations_total{cause="refresh_token_reused"}')).toBe(1);
  });
});
