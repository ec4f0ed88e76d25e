import cors from '@fastify/cors';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCors, type CorsPolicy } from '../../src/http/cors.js';

const APP_ORIGIN = 'http://127.0.0.1:5173';
const isAppOrigin = async (origin: string): Promise<boolean> => {
  if (origin === 'https://broken.example') throw new Error('store down');
  return origin === APP_ORIGIN;
};

/** The server's former CORS setup: @fastify/cors 11 with this delegator (http/app.ts before). */
async function withFastifyCors(app: FastifyInstance, p: CorsPolicy): Promise<void> {
  const PUBLIC_METADATA = /^\/\.well-known\/(openid-configuration|oauth-authorization-server|jwks\.json)$/;
  const APP_ENDPOINTS = /^\/(v1\/token|oauth\/userinfo|oauth\/revoke)$/;
  const base = {
    origin: [...p.allowedOrigins],
    credentials: true,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'DPoP', 'X-CSRF-Token'],
    exposedHeaders: ['WWW-Authenticate', 'Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'DPoP-Nonce'],
    maxAge: 600,
  };
  await app.register(cors, {
    delegator: async (request: FastifyRequest) => {
      const origin = request.headers.origin;
      if (origin === undefined || p.allowedOrigins.includes(origin)) return base;
      const path = request.url.split('?')[0] ?? '';
      if (PUBLIC_METADATA.test(path)) return { ...base, origin: '*', credentials: false };
      if (APP_ENDPOINTS.test(path) && (await p.isAppOrigin(origin).catch(() => false))) return { ...base, origin, credentials: false };
      return base;
    },
  });
}

async function build(install: (app: FastifyInstance) => Promise<void>): Promise<FastifyInstance> {
  const app = Fastify();
  await install(app);
  // a route that varies on something else already (Vary must be merged, not replaced)
  app.addHook('onSend', async (request, reply) => {
    if (request.url === '/varied') void reply.header('Vary', 'Accept-Encoding');
  });
  app.get('/v1/me', async () => ({ me: true }));
  app.get('/.well-known/jwks.json', async () => ({ keys: [] }));
  app.post('/v1/token', async () => ({ token: 'x' }));
  app.get('/oauth/userinfo', async () => ({ sub: 'x' }));
  app.get('/varied', async () => ({}));
  return app;
}

const ORIGINS = [undefined, '', 'https://app.example.com', 'https://other.example.com', 'https://evil.example', APP_ORIGIN, 'https://broken.example', 'null'];
const PATHS = ['/v1/me', '/.well-known/jwks.json', '/.well-known/jwks.json?x=1', '/v1/token', '/oauth/userinfo', '/varied', '/nope'];
const REQUESTS: Array<{ method: 'GET' | 'POST' | 'OPTIONS'; headers: Record<string, string> }> = [
  { method: 'GET', headers: {} },
  { method: 'POST', headers: { 'content-type': 'application/json' } },
  { method: 'OPTIONS', headers: {} },
  { method: 'OPTIONS', headers: { 'access-control-request-method': 'POST' } },
  { method: 'OPTIONS', headers: { 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,dpop' } },
  { method: 'OPTIONS', headers: { 'access-control-request-method': '' } },
];

for (const allowedOrigins of [['https://app.example.com', 'https://other.example.com'], ['*'], []]) {
  describe(`CORS with allowed origins ${JSON.stringify(allowedOrigins)}`, () => {
    const policy: CorsPolicy = { allowedOrigins, isAppOrigin };
    let ours: FastifyInstance;
    let reference: FastifyInstance;
    beforeAll(async () => {
      ours = await build(async (app) => registerCors(app, policy));
      reference = await build((app) => withFastifyCors(app, policy));
    });
    afterAll(async () => {
      await ours?.close();
      await reference?.close();
    });

    it('answers exactly as @fastify/cors did: allowed, disallowed, absent Origin; preflight and simple requests', async () => {
      let compared = 0;
      for (const origin of ORIGINS) {
        for (const url of PATHS) {
          for (const r of REQUESTS) {
            const headers = { ...r.headers, ...(origin === undefined ? {} : { origin }) };
            const body = r.method === 'POST' ? '{}' : undefined;
            const [a, b] = await Promise.all([ours, reference].map((app) => app.inject({ method: r.method, url, headers, payload: body })));
            const strip = (h: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(h).filter(([k]) => k !== 'date'));
            const what = `${r.method} ${url} origin=${String(origin)} ${JSON.stringify(r.headers)}`;
            expect([what, a.statusCode, strip(a.headers), a.body]).toEqual([what, b.statusCode, strip(b.headers), b.body]);
            compared++;
          }
        }
      }
      expect(compared).toBe(ORIGINS.length * PATHS.length * REQUESTS.length);
    });

    it('reflects an allowed origin with credentials and never a foreign one', async () => {
      const foreign = await ours.inject({ method: 'GET', url: '/v1/me', headers: { origin: 'https://evil.example' } });
      expect(foreign.headers['access-control-allow-origin']).toBe(allowedOrigins.includes('*') ? '*' : undefined);
      expect(foreign.headers.vary).toBe('Origin');
      if (allowedOrigins.includes('https://app.example.com')) {
        const ok = await ours.inject({ method: 'GET', url: '/v1/me', headers: { origin: 'https://app.example.com' } });
        expect(ok.headers['access-control-allow-origin']).toBe('https://app.example.com');
        expect(ok.headers['access-control-allow-credentials']).toBe('true');
      }
    });
  });
}
