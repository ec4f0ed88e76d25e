import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startServer, type TestServer } from '../support/server.js';

/** The zod route schemas refuse bad input with the same codes and messages as before, on every part of a request. */
describe('request validation by the route schemas', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(async () => s?.close());

  const problem = (r: { status: number; body: any }, detail: string | RegExp) => {
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'invalid_request', status: 400 });
    expect(r.body.detail).toMatch(detail);
  };

  it('names an unknown field, a missing field and a mistyped one in the body', async () => {
    problem(await http(s.url, 'POST', '/v1/login', { json: { email: 'a@example.com', password: 'pw', is_admin: true } }), 'Unknown field "is_admin" in body.');
    problem(await http(s.url, 'POST', '/v1/login', { json: { email: 'a@example.com' } }), 'Missing field "password" in body.');
    problem(await http(s.url, 'POST', '/v1/login', { json: { email: 'a@example.com', password: 7 } }), /^Invalid body\/password: /);
    problem(await http(s.url, 'POST', '/v1/login', { json: { email: 'a@example.com', password: 'pw', transport: 'pigeon' } }), /^Invalid body\/transport: /);
    problem(await http(s.url, 'POST', '/v1/login', { json: [1, 2] }), /^Invalid body: /);
  });

  it('refuses unknown query parameters and malformed path parameters', async () => {
    problem(await http(s.url, 'GET', '/v1/revocations?since=1&debug=1'), 'Unknown field "debug" in querystring.');
    problem(await http(s.url, 'GET', '/v1/revocations?since=abc'), /^Invalid querystring\/since: /);
    problem(await http(s.url, 'DELETE', `/v1/mfa/webauthn/${encodeURIComponent('not base64url!')}`), /^Invalid params\/id: /);
  });

  it('takes form bodies on the OAuth endpoints, validated by the same schema, and only there', async () => {
    const refresh = await http(s.url, 'POST', '/v1/token', { form: { grant_type: 'refresh_token', refresh_token: 'x.y' } });
    expect(refresh.status).toBe(400);
    expect(refresh.body.code).toBe('invalid_grant');
    problem(await http(s.url, 'POST', '/v1/token', { json: { grant_type: 'refresh_token', refresh_token: 'x.y', extra: '1' } }), 'Unknown field "extra" in body.');
    // RFC 6749 §3.2: a form body's unrecognized parameters are ignored (JSON stays strict)
    const extra = await http(s.url, 'POST', '/v1/token', { form: { grant_type: 'refresh_token', refresh_token: 'x.y', extra: '1' } });
    expect(extra.body.code).toBe('invalid_grant');
    expect((await http(s.url, 'POST', '/oauth/revoke', { form: { token: 'whatever' } })).status).toBe(200);
    const login = await http(s.url, 'POST', '/v1/login', { form: { email: 'a@example.com', password: 'pw' } });
    expect(login.status).toBe(415);
    expect(login.body.code).toBe('unsupported_media_type');
  });

  it('answers with the documented shapes, unknown JWK members kept', async () => {
    const health = await http(s.url, 'GET', '/healthz');
    expect(health.body).toEqual({ status: 'ok' });
    const meta = await http(s.url, 'GET', '/.well-known/oauth-authorization-server');
    expect(meta.body.issuer).toBe(s.t.config.issuer);
    expect(meta.body.revocation_feed_endpoint).toBe(`${s.t.config.issuer}/v1/revocations`);
    const jwks = await http(s.url, 'GET', '/.well-known/jwks.json');
    expect(jwks.body.keys[0]).toMatchObject({ kid: expect.any(String), use: 'sig', kty: 'OKP', crv: 'Ed25519', x: expect.any(String) });
  });
});
