import helmet from '@fastify/helmet';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECURITY_HEADERS } from '../../src/http/security-headers.js';
import { http, startServer, type TestServer } from '../support/server.js';

describe('security headers', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(async () => s?.close());

  it('are exactly what @fastify/helmet sets with the server\'s former options (no CSP, no COEP)', async () => {
    const app = Fastify();
    await app.register(helmet, { contentSecurityPolicy: false, crossOriginEmbedderPolicy: false });
    app.get('/', async () => ({}));
    const res = await app.inject({ method: 'GET', url: '/' });
    await app.close();
    const fromHelmet = Object.fromEntries(Object.entries(res.headers).filter(([k]) => !['content-type', 'content-length', 'date', 'connection'].includes(k)));
    expect(SECURITY_HEADERS).toEqual(fromHelmet);
  });

  it('are on every answer: an API route, a refusal, an unknown path', async () => {
    for (const [method, path] of [['GET', '/.well-known/jwks.json'], ['GET', '/v1/me'], ['GET', '/no-such-path']]) {
      const r = await http(s.url, method, path);
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect([path, name, r.headers.get(name)]).toEqual([path, name, value]);
    }
  });
});
