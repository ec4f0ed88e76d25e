import type { FastifyRequest } from 'fastify';
import { safeEqual, sha256 } from '../../core/crypto.js';
import { TesseraError } from '../../core/errors.js';
import { parseIp } from '../../lib/client-ip.js';
import type { TesseraServices } from '../../tessera.js';
import { problemBody } from '../problem.js';
import type { ZodApp } from '../schemas/common.js';
import { healthzSchema, metricsSchema, readyzSchema } from '../schemas/ops.js';

/**
 * `/metrics` shows routes, traffic, error rates and process internals: reconnaissance for an attacker.
 * With TESSERA_METRICS_TOKEN it needs `Authorization: Bearer <token>` (compared in constant time); without
 * one, only loopback peers (a scraper on the same host or through a local agent) are answered. The peer is
 * the socket's address, never X-Forwarded-For, which a remote client could set to 127.0.0.1.
 */
function metricsAccess(t: TesseraServices, request: FastifyRequest): void {
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

export function opsRoutes(app: ZodApp, t: TesseraServices): void {
  // the registry and its collectors live in lib/metrics.ts (t.metrics)
  const { registry } = t.metrics;
  t.metrics.install(app);

  app.get('/healthz', { schema: healthzSchema }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: readyzSchema }, async (request, reply) => {
    const { ok, checks, failures } = await t.readiness.check();
    for (const { check, err } of failures) request.log.warn({ err, check }, 'readiness check failed');
    if (!ok) return reply.code(503).type('application/problem+json').send(problemBody('service_unavailable', undefined, { checks }));
    return { status: 'ready', checks };
  });
  app.get('/metrics', { schema: metricsSchema }, async (request, reply) => {
    metricsAccess(t, request);
    return reply.header('Cache-Control', 'no-store').type(registry.contentType).send(await registry.metrics());
  });
}
