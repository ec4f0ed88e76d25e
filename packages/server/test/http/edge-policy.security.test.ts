import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startServer, type TestServer } from '../support/server.js';
import { signUp } from '../support/users.js';

const PASSWORD = 'correct horse battery staple';

/** A request over a real socket with the given header lines, repeated names included (fetch would merge them). */
function rawRequest(base: string, path: string, lines: Array<[string, string]>): Promise<{ status: number; wwwAuthenticate: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method: 'GET' }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, wwwAuthenticate: res.headers['www-authenticate'] }));
    });
    const byName = new Map<string, string[]>();
    for (const [n, v] of lines) byName.set(n, [...(byName.get(n) ?? []), v]);
    for (const [n, vs] of byName) req.setHeader(n, vs.length === 1 ? vs[0] : vs);
    req.on('error', reject);
    req.end();
  });
}

describe('the server authenticates by the SDK\'s edge policy', () => {
  let s: TestServer;
  let token: string;
  let other: string;
  beforeAll(async () => {
    // No grace window, so the second use of a refresh token is a reuse.
    s = await startServer({ env: { TESSERA_REFRESH_GRACE: '0' } });
    for (const email of ['ivy@example.com', 'jay@example.com']) await signUp(s, email, PASSWORD);
    const a = await http(s.url, 'POST', '/v1/login', { json: { email: 'ivy@example.com', password: PASSWORD } });
    const b = await http(s.url, 'POST', '/v1/login', { json: { email: 'jay@example.com', password: PASSWORD } });
    token = a.body.access_token;
    other = b.body.access_token;
  });
  afterAll(async () => s?.close());

  const me = (headers: Record<string, string>) => http(s.url, 'GET', '/v1/me', { headers });

  it('refuses two access cookies instead of taking the first (issue 17, item 12: cookie tossing)', async () => {
    expect((await me({ cookie: `__Host-tessera_at=${token}` })).status).toBe(200);
    const tossed = await me({ cookie: `__Host-tessera_at=${token}; __Host-tessera_at=${other}` });
    expect([tossed.status, tossed.body.code, tossed.headers.get('www-authenticate')]).toEqual([401, 'invalid_token', 'Bearer error="invalid_token"']);
  });

  it('refuses two Authorization headers, and a header together with the cookie', async () => {
    expect((await rawRequest(s.url, '/v1/me', [['authorization', `Bearer ${token}`]])).status).toBe(200);
    expect((await rawRequest(s.url, '/v1/me', [['authorization', `Bearer ${token}`], ['authorization', `Bearer ${other}`]])).status).toBe(401);
    expect((await me({ authorization: `Bearer ${token}`, cookie: `__Host-tessera_at=${other}` })).status).toBe(401);
  });

  it('reads `Bearer` followed by several spaces, as the SDK does (RFC 6750: 1*SP)', async () => {
    expect((await me({ authorization: `Bearer   ${token}` })).status).toBe(200);
  });

  it('every 401 carries WWW-Authenticate (issue 17, item 15)', async () => {
    const none = await me({});
    expect([none.status, none.headers.get('www-authenticate')]).toEqual([401, 'Bearer, DPoP algs="ES256 EdDSA"']);
    expect((await me({ authorization: 'Bearer abc.def.ghi' })).headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect((await me({ authorization: `DPoP ${token}` })).headers.get('www-authenticate')).toBe('DPoP error="invalid_token", algs="ES256 EdDSA"');
    const wrong = await http(s.url, 'POST', '/v1/login', { json: { email: 'ivy@example.com', password: 'not the password at all' } });
    expect([wrong.status, wrong.headers.get('www-authenticate')]).toEqual([401, 'Bearer, DPoP algs="ES256 EdDSA"']);
    const client = await http(s.url, 'POST', '/oauth/introspect', { form: { token }, headers: { authorization: 'Basic bm9ib2R5Om5vdGhpbmc=' } });
    expect([client.status, client.headers.get('www-authenticate')]).toEqual([401, 'Basic realm="tessera"']);
    const refresh = (rt: string) => http(s.url, 'POST', '/v1/token', { form: { grant_type: 'refresh_token', refresh_token: rt } });
    // (A session of its own: the reuse revokes it.)
    const refreshToken = (await http(s.url, 'POST', '/v1/login', { json: { email: 'ivy@example.com', password: PASSWORD } })).body.refresh_token as string;
    expect((await refresh(refreshToken)).status).toBe(200);
    const reused = await refresh(refreshToken);
    expect([reused.status, reused.body.code, reused.headers.get('www-authenticate')]).toEqual([401, 'refresh_token_reused', 'Bearer error="invalid_token"']);

    // Sweep: any operation of the API, called without credentials, that answers 401 carries a challenge.
    const spec = (await http(s.url, 'GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    let unauthorized = 0;
    for (const [path, ops] of Object.entries(spec.paths)) {
      for (const method of Object.keys(ops)) {
        const r = await http(s.url, method.toUpperCase(), path.replace(/\{[^}]+\}/g, 'x'), method === 'get' || method === 'delete' ? {} : { json: {} });
        if (r.status !== 401) continue;
        unauthorized++;
        expect(r.headers.get('www-authenticate'), `${method} ${path}`).toMatch(/^(Bearer|DPoP|Basic)\b/);
      }
    }
    expect(unauthorized).toBeGreaterThan(10);
  });

  it('every authenticated JSON response carries Cache-Control: no-store (issue 17, item 15)', async () => {
    const spec = (await http(s.url, 'GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const checked: string[] = [];
    for (const [path, ops] of Object.entries(spec.paths)) {
      if (!('get' in ops) || path.includes('{')) continue;
      if ((await http(s.url, 'GET', path)).status !== 401) continue; // public, or not a JSON route
      const r = await http(s.url, 'GET', path, { headers: { authorization: `Bearer ${token}` } });
      if (r.status !== 200 || !String(r.headers.get('content-type')).startsWith('application/json')) continue;
      expect(r.headers.get('cache-control'), path).toBe('no-store');
      checked.push(path);
    }
    expect(checked).toEqual(expect.arrayContaining(['/v1/me', '/v1/sessions', '/v1/events']));
  });
});
