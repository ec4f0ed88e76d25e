import type { FastifyInstance } from 'fastify';
import type { LimitClass } from '../core/limits.js';
import type { TesseraServices } from '../tessera.js';

export type { LimitClass } from '../core/limits.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** a tighter per-IP budget on top of the global per-second limit */
    limit?: LimitClass;
  }
}

const UNLIMITED = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Per-IP requests per second on every route (floods), and tighter per-IP budgets on the endpoints an
 * attacker would hammer: sign-up (mass registration), password forgot/reset (mail bombing, token guessing)
 * and MFA (code guessing). Login has its own guard (core/limits.ts LoginGuard) inside the account service.
 */
export function limitHooks(app: FastifyInstance, t: TesseraServices): void {
  app.addHook('onRequest', async (request, reply) => {
    // the matched route's pattern (Fastify routed before onRequest): these routes have no parameters
    if (UNLIMITED.has(request.routeOptions.url ?? '')) return;
    const { headers } = await t.limits.consume(request.clientIp);
    const cls = request.routeOptions.config.limit;
    if (cls) {
      const r = await t.limits.consumeClass(cls, request.clientIp);
      void reply.headers(r.headers);
    } else {
      void reply.headers(headers);
    }
  });
}
