import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Tessera } from '../tessera.js';
import { GEO_ATTRIBUTION } from '../geo/mmdb.js';
import { makeClientIp } from '../lib/client-ip.js';
import { HttpAuth } from './auth.js';
import { limitConnectionsPerIp } from './connections.js';
import { errorHandler, problemBody, sendProblem } from './problem.js';
import { TesseraError } from '../core/errors.js';
import { loginRoutes } from './routes/login.js';
import { accountRoutes } from './routes/account.js';
import { oauthRoutes } from './routes/oauth.js';
import { discoveryRoutes } from './routes/discovery.js';
import { revocationRoutes } from './routes/revocations.js';
import { adminRoutes } from './routes/admin.js';
import { mfaRoutes } from './routes/mfa.js';
import { opsRoutes } from './routes/ops.js';
import { limitHooks } from './limits.js';
import { riskRoutes } from './routes/risk.js';
import { pagesRoutes } from './pages/routes.js';

const FORM_ROUTES = /^\/(v1\/token|oauth\/)/;

export interface AppOptions {
  logger?: boolean;
}

export async function buildApp(t: Tessera, opts: AppOptions = {}): Promise<FastifyInstance> {
  const clientIp = makeClientIp(t.config.TESSERA_TRUST_PROXY);
  // Typed as Fastify's logger interface so the instance keeps Fastify's default generic parameters.
  const logger: FastifyBaseLogger = opts.logger === false ? pino({ level: 'silent' }) : t.log;
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: 64 * 1024,
    trustProxy: false, // client IPs follow TESSERA_TRUST_PROXY only (http/client-ip.ts)
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false } },
    return503OnClosing: true,
    // Slow clients: a request (headers and body) must arrive within TESSERA_REQUEST_TIMEOUT, checked every
    // second, and an idle socket is closed after a minute (above the 5 s feed heartbeat), so trickled bodies
    // and silent sockets cannot pin connections; connections per peer address are bounded below.
    requestTimeout: t.config.TESSERA_REQUEST_TIMEOUT * 1000,
    connectionTimeout: 60_000,
    http: { connectionsCheckingInterval: 1000, headersTimeout: Math.min(t.config.TESSERA_REQUEST_TIMEOUT * 1000, 60_000) },
  });
  limitConnectionsPerIp(app.server, t.config.TESSERA_MAX_CONNECTIONS_PER_IP, t.config.TESSERA_TRUST_PROXY);
  app.decorateRequest('principal', undefined);
  app.decorateRequest('clientIp', '');
  app.addHook('onRequest', async (request) => {
    request.clientIp = clientIp(request.socket.remoteAddress ?? '', request.headers['x-forwarded-for']);
  });

  app.setErrorHandler(errorHandler);
  const routes: Array<{ method: string; re: RegExp }> = [];
  app.addHook('onRoute', (r) => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    const re = new RegExp(`^${r.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]+/g, '[^/]+')}$`);
    for (const m of methods) routes.push({ method: m, re });
  });
  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = [...new Set(routes.filter((r) => r.re.test(path)).map((r) => r.method))];
    if (allowed.length > 0) {
      return sendProblem(reply, new TesseraError('method_not_allowed', { headers: { Allow: allowed.join(', ') } }));
    }
    return reply.code(404).type('application/problem+json').send(problemBody('not_found'));
  });

  // CORS only for the configured origins, with credentials (cookie mode) and the headers our clients send.
  // Every other origin gets no CORS headers at all, so browsers keep foreign pages from reading responses.
  await app.register(cors, {
    origin: t.config.allowedOrigins,
    credentials: true,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'DPoP', 'X-CSRF-Token'],
    exposedHeaders: ['WWW-Authenticate', 'Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'DPoP-Nonce'],
    maxAge: 600,
  });
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  // JSON only, except where RFC 6749/7009/7662 require form bodies: anything else is 415, not a guess.
  app.removeContentTypeParser('text/plain');
  app.addHook('preValidation', async (request) => {
    const type = request.headers['content-type'];
    if (type?.startsWith('application/x-www-form-urlencoded') && !FORM_ROUTES.test(request.url)) {
      throw new TesseraError('unsupported_media_type', { detail: 'Send application/json.' });
    }
  });
  await app.register(helmet, { contentSecurityPolicy: false, crossOriginEmbedderPolicy: false });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tessera',
        version: '0.1.0',
        description: `Authentication server: short-lived signed access tokens, rotating refresh tokens, MFA, revocation.\n\n${GEO_ATTRIBUTION}`,
      },
      servers: [{ url: t.config.issuer }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const auth = new HttpAuth(t);
  limitHooks(app, t);
  discoveryRoutes(app, t);
  loginRoutes(app, t, auth);
  accountRoutes(app, t, auth);
  mfaRoutes(app, t, auth);
  oauthRoutes(app, t);
  revocationRoutes(app, t);
  adminRoutes(app, t, auth);
  riskRoutes(app, t);
  opsRoutes(app, t);
  await pagesRoutes(app, t, auth);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
