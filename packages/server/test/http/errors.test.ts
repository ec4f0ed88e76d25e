import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startServer, type TestServer } from '../support/server.js';
import { signUp } from '../support/users.js';

describe('problem+json for every kind of bad input', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(async () => s?.close());

  const expectProblem = (r: { status: number; headers: Headers; body: any }, status: number, code: string) => {
    expect(r.status).toBe(status);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(r.body).toMatchObject({ type: expect.any(String), title: expect.any(String), status, code });
    const text = JSON.stringify(r.body);
    expect(text).not.toMatch(/at .*\.(ts|js):\d+|node_modules|SELECT|sqlite|stack/i);
  };

  it('404, 405, 413, 415, malformed JSON, unknown fields, schema violations', async () => {
    expectProblem(await http(s.url, 'GET', '/nope'), 404, 'not_found');
    const m = await http(s.url, 'PUT', '/v1/login', { json: {} });
    expectProblem(m, 405, 'method_not_allowed');
    expect(m.headers.get('allow')).toContain('POST');
    expectProblem(await http(s.url, 'POST', '/v1/accounts', { json: { email: 'a@b.c', password: 'x'.repeat(70 * 1024) } }), 413, 'payload_too_large');
    expectProblem(await http(s.url, 'POST', '/v1/accounts', { body: 'email=a', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type');
    expectProblem(await http(s.url, 'POST', '/v1/accounts', { body: '{"email":', headers: { 'content-type': 'application/json' } }), 400, 'invalid_request');
    const unknown = await http(s.url, 'POST', '/v1/accounts', { json: { email: 'a@example.com', password: 'long enough pw 1', admin: true } });
    expectProblem(unknown, 400, 'invalid_request');
    expect(unknown.body.detail).toContain('admin');
    expectProblem(await http(s.url, 'POST', '/v1/accounts', { json: { email: 42, password: 'x' } }), 400, 'invalid_request');
    expectProblem(await http(s.url, 'POST', '/v1/login', { json: { email: 'a@example.com' } }), 400, 'invalid_request');
  });

  it('weak and breached passwords are refused with weak_password', async () => {
    for (const password of ['short', 'password1', '12345678', 'aaaaaaaaaaaa', 'qwertyuiop']) {
      expectProblem(await http(s.url, 'POST', '/v1/accounts', { json: { email: 'weak@example.com', password } }), 400, 'weak_password');
    }
    // No composition rules: a long lower-case passphrase is fine, and 128 characters are allowed.
    await signUp(s, 'long@example.com', 'correct horse battery staple '.repeat(5).slice(0, 128));
  });

  it('wrong email and wrong password give the same 401 body', async () => {
    await signUp(s, 'erin@example.com', 'correct horse battery staple');
    const a = await http(s.url, 'POST', '/v1/login', { json: { email: 'nobody@example.com', password: 'whatever password' } });
    const b = await http(s.url, 'POST', '/v1/login', { json: { email: 'erin@example.com', password: 'whatever password' } });
    expectProblem(a, 401, 'invalid_credentials');
    expect(b.status).toBe(401);
    expect(b.body).toEqual(a.body);
  });

  it('operations endpoints answer', async () => {
    expect((await http(s.url, 'GET', '/healthz')).status).toBe(200);
    expect((await http(s.url, 'GET', '/readyz')).body).toMatchObject({ status: 'ready' });
    const metrics = await http(s.url, 'GET', '/metrics');
    expect(metrics.body).toContain('tessera_http_requests_total');
    const openapi = await http(s.url, 'GET', '/openapi.json');
    expect(openapi.body.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.body.paths)).toContain('/v1/login');
    expect((await fetch(`${s.url}/docs/`)).status).toBe(200);
  });
});

describe('CORS follows TESSERA_ALLOWED_ORIGINS', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ env: { TESSERA_ALLOWED_ORIGINS: 'https://app.example.com' } });
  });
  afterAll(async () => s?.close());

  it('answers preflights and sets credentials headers for allowed origins only', async () => {
    const pre = await fetch(`${s.url}/v1/login`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,dpop' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(pre.headers.get('access-control-allow-credentials')).toBe('true');
    expect(pre.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('dpop');
    const foreign = await fetch(`${s.url}/v1/me`, { headers: { origin: 'https://evil.example' } });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const ok = await fetch(`${s.url}/healthz`, { headers: { origin: 'https://app.example.com' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
  });
});
