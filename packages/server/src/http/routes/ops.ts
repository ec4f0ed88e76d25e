import type { FastifyInstance, FastifyRequest } from 'fastify';
import { safeEqual, sha256 } from '../../core/crypto.js';
import { TesseraError } from '../../core/errors.js';
import { parseIp } from '../../lib/client-ip.js';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Tessera } from '../../tessera.js';
import { problemBody } from '../problem.js';

/**
 * `/metrics` shows routes, traffic, error rates and process internals: reconnaissance for an attacker.
 * With TESSERA_METRICS_TOKEN it needs `Authorization: Bearer <token>` (compared in constant time); without
 * one, only loopback peers (a scraper on the same host or through a local agent) are answered. The peer is
 * the socket's address, never X-Forwarded-For, which a remote client could set to 127.0.0.1.
 */
function metricsAccess(t: Tessera, request: FastifyRequest): void {
  const token = t.config.TESSERA_METRICS_TOKEN;
  if (token !== undefined) {
    const m = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '');
    if (!m?.[1] || !safeEqual(sha256(m[1]), sha256(token))) {
      throw new TesseraError('invalid_token', { reason: 'metrics token missing or wrong', headers: { 'WWW-Authenticate': 'Bearer realm="metrics"' } });
    }
    return;
  }
  if (parseIp(request.socket.remoteAddress ?? '')?.range() !== 'loopback') {
    throw new TesseraError('forbidden', { detail: 'Set TESSERA_METRICS_TOKEN to scrape metrics from another host.', reason: 'metrics from a non-loopback peer' });
  }
}

export function opsRoutes(app: FastifyInstance, t: Tessera): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tessera_' });
  const requests = new Counter({ name: 'tessera_http_requests_total', help: 'HTTP requests', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const latency = new Histogram({ name: 'tessera_http_request_duration_seconds', help: 'HTTP request latency', labelNames: ['method', 'route'], registers: [registry], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  app.get('/healthz', { schema: { tags: ['operations'] } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { tags: ['operations'] } }, async (request, reply) => {
    const checks: Record<string, string> = {};
    let ok = true;
    for (const [name, ping] of [['database', () => t.store.ping()], ['state', () => t.state.ping()]] as const) {
      try {
        await ping();
        checks[name] = 'ok';
      } catch (err) {
        ok = false;
        checks[name] = 'unreachable';
        request.log.warn({ err, check: name }, 'readiness check failed');
      }
    }
    if (!ok) return reply.code(503).type('application/problem+json').send(problemBody('service_unavailable', undefined, { checks }));
    return { status: 'ready', checks };
  });
  app.get('/metrics', { schema: { tags: ['operations'] } }, async (request, reply) => {
    metricsAccess(t, request);
    return reply.header('Cache-Control', 'no-store').type(registry.contentType).send(await registry.metrics());
  });
}
