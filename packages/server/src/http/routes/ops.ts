import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TesseraServices } from '../../tessera.js';
import { problemBody } from '../problem.js';
import type { ZodApp } from '../schemas/common.js';
import { healthzSchema, metricsSchema, readyzSchema } from '../schemas/ops.js';

export function opsRoutes(app: ZodApp, t: TesseraServices): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tessera_' });
  const requests = new Counter({ name: 'tessera_http_requests_total', help: 'HTTP requests', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const latency = new Histogram({ name: 'tessera_http_request_duration_seconds', help: 'HTTP request latency', labelNames: ['method', 'route'], registers: [registry], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  app.get('/healthz', { schema: healthzSchema }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: readyzSchema }, async (request, reply) => {
    const { ok, checks, failures } = await t.readiness.check();
    for (const { check, err } of failures) request.log.warn({ err, check }, 'readiness check failed');
    if (!ok) return reply.code(503).type('application/problem+json').send(problemBody('service_unavailable', undefined, { checks }));
    return { status: 'ready', checks };
  });
  app.get('/metrics', { schema: metricsSchema }, async (_req, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
}
