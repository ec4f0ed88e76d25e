import type { FastifyInstance } from 'fastify';
import type { Tessera } from '../../tessera.js';
import { problemBody } from '../problem.js';

export function opsRoutes(app: FastifyInstance, t: Tessera): void {
  // the registry and its collectors live in http/metrics.ts (t.metrics)
  const { registry } = t.metrics;
  t.metrics.install(app);

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
  app.get('/metrics', { schema: { tags: ['operations'] } }, async (_req, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
}
