/** The metrics an operator needs, counted from real requests; a request id on every answer. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
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

  it('the password hashes running and waiting, read when scraped', async () => {
    const stored = await s.t.hasher.hash('correct horse battery staple 12');
    // more hashes than cores: while the scrape is answered some run and the rest wait their turn
    const all = Promise.all(Array.from({ length: 12 }, () => s.t.hasher.verify(stored, 'wrong password 1234')));
    const busy = await (await fetch(`${s.url}/metrics`)).text();
    expect(value(busy, 'tessera_password_hashes_running')).toBeGreaterThan(0);
    expect(value(busy, 'tessera_password_hashes_waiting')).toBeGreaterThan(0);
    await all;
    const idle = await (await fetch(`${s.url}/metrics`)).text();
    expect(value(idle, 'tessera_password_hashes_running')).toBe(0);
    expect(value(idle, 'tessera_password_hashes_waiting')).toBe(0);
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

  it('feed lag per subscriber: a connected stream has a series at 0, behind while its reads fail, 0 once delivered, gone on disconnect', async () => {
    const client = await s.t.clients.create('lag-api');
    const basic = `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`;
    const items = `tessera_feed_subscriber_lag_items{client="${client.id}"}`;
    const seconds = `tessera_feed_subscriber_lag_seconds{client="${client.id}"}`;
    const scrape = async () => (await fetch(`${s.url}/metrics`)).text();
    const until = async (what: (text: string) => boolean) => {
      for (let i = 0; i < 100; i++) {
        if (what(await scrape())) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect.fail(`metric never matched:\n${(await scrape()).split('\n').filter((l) => l.includes('feed_subscriber')).join('\n')}`);
    };
    s.app.revocationTail.heartbeatMs = 100;
    const head = (await http(s.url, 'GET', '/v1/revocations', { headers: { authorization: basic } })).body.cursor as number;
    const ac = new AbortController();
    const res = await fetch(`${s.url}/v1/revocations/stream?since=${head}`, { headers: { authorization: basic }, signal: ac.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await until((text) => value(text, items) === 0 && value(text, seconds) === 0);

    // the stream's reads of the feed fail (a database hiccup): the revocation is known but undelivered
    const password = 'correct horse battery staple 12';
    await signUp(s, 'lag@example.com', password);
    const login = await http(s.url, 'POST', '/v1/login', { json: { email: 'lag@example.com', password } });
    const failing = vi.spyOn(s.t.feed, 'since').mockRejectedValue(new Error('connection terminated'));
    expect((await http(s.url, 'POST', '/v1/logout', { headers: { authorization: `Bearer ${login.body.access_token}` } })).status).toBe(204);
    await until((text) => value(text, items) === 1 && (value(text, seconds) ?? 0) > 0.1);

    // reads work again: the next heartbeat retries, the item is delivered and the lag is back to 0
    failing.mockRestore();
    let buffered = '';
    while (!buffered.includes(login.body.session_id as string)) {
      const { value: chunk, done } = await reader.read();
      if (done) break;
      buffered += new TextDecoder().decode(chunk);
    }
    expect(buffered).toContain(`"sid":"${login.body.session_id as string}"`);
    await until((text) => value(text, items) === 0 && value(text, seconds) === 0);

    ac.abort();
    await until((text) => value(text, items) === undefined && !text.includes(client.id));
  });
});
