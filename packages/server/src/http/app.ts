import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { serializerCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { pino } from 'pino';
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import formbody from '@fastify/formbody';
import type { TesseraServices } from '../tessera.js';
import { makeClientIp } from '../lib/client-ip.js';
import { HttpAuth } from './auth.js';
import { limitConnectionsPerIp } from './connections.js';
import { errorHandler, problemBody, sendProblem } from './problem.js';
import { TesseraError } from '../core/errors.js';
import { loginRoutes } from './routes/login.js';
import { verificationRoutes } from './routes/verification.js';
import { accountRoutes } from './routes/account.js';
import { lifecycleRoutes } from './routes/lifecycle.js';
import { oauthRoutes } from './routes/oauth.js';
import { tokenRoutes } from './routes/token.js';
import { oidcRoutes } from './routes/oidc.js';
import { clientRoutes } from './routes/clients.js';
import { oauthPages } from './pages/oauth-pages.js';
import { discoveryRoutes } from './routes/discovery.js';
import { revocationRoutes } from './routes/revocations.js';
import { adminRoutes } from './routes/admin.js';
import { mfaRoutes } from './routes/mfa.js';
import { opsRoutes } from './routes/ops.js';
import { limitHooks } from './limits.js';
import { riskRoutes } from './routes/risk.js';
import { pagesRoutes } from './pages/routes.js';
import { validatorCompiler } from './schemas/compiler.js';
import { registerOpenApi } from './schemas/openapi.js';
import { SECURITY_HEADERS } from './security-headers.js';
import { isUnavailable } from '../lib/unavailable.js';
import { installShutdown, type Shutdown } from './shutdown.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** SIGTERM handling of `tessera serve` (http/shutdown.ts) */
    shutdown: Shutdown;
  }
}

const FORM_ROUTES = /^\/(v1\/token|oauth\/)/;
const PUBLIC_METADATA = /^\/\.well-known\/(openid-configuration|oauth-authorization-server|jwks\.json)$/;
const APP_ENDPOINTS = /^\/(v1\/token|oauth\/userinfo|oauth\/revoke)$/;

/** A route as registered: what the documentation tests compare with docs/api.md and /openapi.json. */
export interface RegisteredRoute {
  method: string;
  url: string;
  /** left out of /openapi.json (pages, static files, the docs UI) */
  hidden: boolean;
}
const registered = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/** Every route of an app built by buildApp, in registration order. */
export function registeredRoutes(app: FastifyInstance): readonly RegisteredRoute[] {
  return registered.get(app) ?? [];
}

export interface AppOptions {
  logger?: boolean;
  /** closes the adapters (database, Redis) once a SIGTERM drain has finished (`tessera serve`) */
  closeBackend?: () => Promise<void>;
}

/** The Fastify instance with its timeouts, request ids, client IP, shutdown and connection bounds. */
function createFastify(t: TesseraServices, opts: AppOptions): FastifyInstance {
  const clientIp = makeClientIp(t.config.TESSERA_TRUST_PROXY);
  // Typed as Fastify's logger interface so the instance keeps Fastify's default generic parameters.
  const logger: FastifyBaseLogger = opts.logger === false ? pino({ level: 'silent' }) : t.log;
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: 64 * 1024,
    trustProxy: false, // client IPs follow TESSERA_TRUST_PROXY only (http/client-ip.ts)
    return503OnClosing: true,
    // a random id per request, carried by request.log into every line of that request and sent back
    genReqId: () => randomUUID(),
    // Slow clients: a request (headers and body) must arrive within TESSERA_REQUEST_TIMEOUT, checked every
    // second, and an idle socket is closed after a minute (above the 5 s feed heartbeat), so trickled bodies
    // and silent sockets cannot pin connections; connections per peer address are bounded below.
    requestTimeout: t.config.TESSERA_REQUEST_TIMEOUT * 1000,
    connectionTimeout: 60_000,
    http: { connectionsCheckingInterval: 1000, headersTimeout: Math.min(t.config.TESSERA_REQUEST_TIMEOUT * 1000, 60_000) },
  });
  app.decorate('shutdown', installShutdown(app, {
    graceSec: t.config.TESSERA_SHUTDOWN_GRACE,
    closeBackend: opts.closeBackend ?? (async () => undefined),
    exit: (code) => process.exit(code),
  }));
  // a request that failed on a dependency makes the monitor probe now (outage logged once, recovery timed)
  app.addHook('onError', async (_request, _reply, err) => {
    if (isUnavailable(err)) t.dependencies.suspect();
  });
  limitConnectionsPerIp(app.server, t.config.TESSERA_MAX_CONNECTIONS_PER_IP, t.config.TESSERA_TRUST_PROXY);
  app.decorateRequest('principal', undefined);
  app.decorateRequest('clientIp', '');
  app.decorateRequest('oauthProtocol', false);
  // synchronous (no promise per request): the request id sent back, and the client address
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('X-Request-Id', request.id);
    request.clientIp = clientIp(request.socket.remoteAddress ?? '', request.headers['x-forwarded-for']);
    done();
  });

  return app;
}

/**
 * Validation and serialization by the routes' zod schemas, problem+json errors, and a 405 with `Allow` for a
 * known path under another method (every route is also recorded for the documentation tests).
 */
function trackRoutes(app: FastifyInstance): void {
  // Requests are validated and responses serialized with the routes' zod schemas (http/schemas/).
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  const routes: Array<{ method: string; re: RegExp }> = [];
  const table: RegisteredRoute[] = [];
  registered.set(app, table);
  app.addHook('onRoute', (r) => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    const re = new RegExp(`^${r.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]+/g, '[^/]+')}$`);
    const hidden = r.schema?.hide === true;
    for (const m of methods) {
      routes.push({ method: m, re });
      table.push({ method: m, url: r.url, hidden });
    }
  });
  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = [...new Set(routes.filter((r) => r.re.test(path)).map((r) => r.method))];
    if (allowed.length > 0) {
      return sendProblem(reply, new TesseraError('method_not_allowed', { headers: { Allow: allowed.join(', ') } }));
    }
    return reply.code(404).type('application/problem+json').send(problemBody('not_found'));
  });

}

/** CORS, cookies, form bodies where OAuth needs them, security headers and the OpenAPI document. */
async function registerPlugins(app: FastifyInstance, t: TesseraServices): Promise<void> {
  // CORS only for the configured origins, with credentials (cookie mode) and the headers our clients send.
  // Every other origin gets no CORS headers at all, so browsers keep foreign pages from reading responses —
  // except the public discovery documents (any origin, no credentials), and the token, userinfo and
  // revocation endpoints for the origins of registered public clients (browser apps; no cookies either).
  const base = {
    origin: t.config.allowedOrigins,
    credentials: true,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'DPoP', 'X-CSRF-Token'],
    exposedHeaders: ['WWW-Authenticate', 'Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'DPoP-Nonce'],
    maxAge: 600,
  };
  await app.register(cors, {
    delegator: async (request: FastifyRequest) => {
      const origin = request.headers.origin;
      if (origin === undefined || t.config.allowedOrigins.includes(origin)) return base;
      const path = request.url.split('?')[0] ?? '';
      if (PUBLIC_METADATA.test(path)) return { ...base, origin: '*', credentials: false };
      if (APP_ENDPOINTS.test(path) && (await t.oauth.isAppOrigin(origin).catch(() => false))) return { ...base, origin, credentials: false };
      return base;
    },
  });
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  // JSON only, except where RFC 6749/7009/7662 require form bodies: anything else is 415, not a guess.
  app.removeContentTypeParser('text/plain');
  app.addHook('preValidation', (request, _reply, done) => {
    const type = request.headers['content-type'];
    if (type?.startsWith('application/x-www-form-urlencoded') && !FORM_ROUTES.test(request.url)) {
      return done(new TesseraError('unsupported_media_type', { detail: 'Send application/json.' }));
    }
    done();
  });
  app.addHook('onRequest', (_request, reply, done) => {
    void reply.headers(SECURITY_HEADERS);
    done();
  });
  await registerOpenApi(app, t);

}

export async function buildApp(t: TesseraServices, opts: AppOptions = {}): Promise<FastifyInstance> {
  const app = createFastify(t, opts);
  trackRoutes(app);
  await registerPlugins(app, t);

  const auth = new HttpAuth(t);
  // RFC 9449 §8: the nonce a DPoP client's next proof must carry, on every answer to a proof (and on 401s,
  // where a client without one learns it); pages carry it in a <meta> tag (pages/routes.ts).
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.headers.dpop !== undefined || reply.statusCode === 401) void reply.header('DPoP-Nonce', auth.nonces.current());
    done(null, payload);
  });
  limitHooks(app, t);
  const api = app.withTypeProvider<ZodTypeProvider>();
  discoveryRoutes(api, t);
  loginRoutes(api, t, auth);
  verificationRoutes(api, t);
  accountRoutes(api, t, auth);
  lifecycleRoutes(api, t, auth);
  mfaRoutes(api, t, auth);
  tokenRoutes(api, t, auth);
  oauthRoutes(api, t);
  oidcRoutes(api, t, auth);
  revocationRoutes(api, t);
  adminRoutes(api, t, auth);
  clientRoutes(api, t, auth);
  riskRoutes(api, t);
  opsRoutes(api, t);
  await pagesRoutes(app, t, auth);
  oauthPages(app, t, auth);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
