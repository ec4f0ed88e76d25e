import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** set on a preflight this policy answered (as @fastify/cors does) */
    corsPreflightEnabled: boolean;
  }
}

const PUBLIC_METADATA = /^\/\.well-known\/(openid-configuration|oauth-authorization-server|jwks\.json)$/;
const APP_ENDPOINTS = /^\/(v1\/token|oauth\/userinfo|oauth\/revoke)$/;
const EXPOSED = 'WWW-Authenticate, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, DPoP-Nonce';
const PREFLIGHT: Readonly<Record<string, string>> = Object.freeze({
  'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE',
  'access-control-allow-headers': 'Authorization, Content-Type, DPoP, X-CSRF-Token',
  'access-control-max-age': '600',
});

export interface CorsPolicy {
  /** TESSERA_ALLOWED_ORIGINS: reflected, with credentials (cookie mode) */
  allowedOrigins: readonly string[];
  /** whether an origin is a registered public client's (token, userinfo, revocation; no credentials) */
  isAppOrigin: (origin: string) => Promise<boolean>;
}

/**
 * CORS only for the configured origins, with credentials (cookie mode) and the headers our clients send.
 * Every other origin gets no Access-Control-Allow-Origin at all, so browsers keep foreign pages from reading
 * responses — except the public discovery documents (any origin, no credentials), and the token, userinfo
 * and revocation endpoints for the origins of registered public clients (browser apps; no cookies either).
 *
 * The answers are exactly those of @fastify/cors 11 with the delegator the server used before (compared in
 * test/http/cors.test.ts), computed once per request from fixed values: the plugin normalised and copied
 * its options twice and went through a promise on every request, which cost ≈ 5 % of `GET /v1/me`.
 */
export function registerCors(app: FastifyInstance, policy: CorsPolicy): void {
  const allowed = new Set(policy.allowedOrigins);
  const anyOrigin = allowed.has('*'); // @fastify/cors answers '*' (still with credentials) when listed
  app.decorateRequest('corsPreflightEnabled', false);
  app.addHook('onRequest', (request, reply, done) => {
    const origin = request.headers.origin;
    // the configured origins, reflected with credentials (none for any other origin)
    const base = anyOrigin ? '*' : undefined;
    if (origin === undefined || allowed.has(origin)) return answer(request, reply, base ?? origin, true, done);
    const path = request.url.split('?')[0] ?? '';
    if (PUBLIC_METADATA.test(path)) return answer(request, reply, '*', false, done);
    if (!APP_ENDPOINTS.test(path)) return answer(request, reply, base, true, done);
    policy.isAppOrigin(origin).catch(() => false).then(
      (isApp) => (isApp ? answer(request, reply, origin, false, done) : answer(request, reply, base, true, done)),
      done,
    );
  });
  // lets Fastify route preflights (answered by the hook above, before authentication could refuse them)
  app.options('*', { schema: { hide: true } }, (request, reply) => {
    if (!request.corsPreflightEnabled) return reply.callNotFound();
    return reply.send();
  });
}

function answer(request: FastifyRequest, reply: FastifyReply, allowOrigin: string | undefined, credentials: boolean, done: (err?: Error) => void): void {
  // the answer depends on Origin, so caches must key on it (Fetch standard, CORS and HTTP caches)
  addVaryOrigin(reply);
  if (allowOrigin !== undefined) void reply.header('Access-Control-Allow-Origin', allowOrigin);
  if (credentials) void reply.header('Access-Control-Allow-Credentials', 'true');
  void reply.header('Access-Control-Expose-Headers', EXPOSED);
  if (request.raw.method !== 'OPTIONS') return done();
  if (!request.headers.origin || !request.headers['access-control-request-method']) {
    void reply.status(400).type('text/plain').send('Invalid Preflight Request');
    return;
  }
  request.corsPreflightEnabled = true;
  void reply.headers(PREFLIGHT).code(204).header('Content-Length', '0').send();
}

function addVaryOrigin(reply: FastifyReply): void {
  const vary = reply.getHeader('Vary');
  if (vary === undefined || vary === '') return void reply.header('Vary', 'Origin');
  const value = Array.isArray(vary) ? vary.join(', ') : String(vary);
  const fields = value.toLowerCase().split(',').map((s) => s.trim());
  if (fields.includes('*')) return void reply.header('Vary', '*');
  if (fields.includes('origin')) return;
  void reply.header('Vary', `${value}, Origin`);
}
