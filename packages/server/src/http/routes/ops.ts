import type { TesseraServices } from '../../tessera.js';
import { problemBody } from '../problem.js';
import type { ZodApp } from '../schemas/common.js';
import { healthzSchema, metricsSchema, readyzSchema } from '../schemas/ops.js';

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
  app.get('/metrics', { schema: metricsSchema }, async (_req, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
}
