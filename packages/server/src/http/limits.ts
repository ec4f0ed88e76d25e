import type { FastifyInstance } from 'fastify';
import { RequestLimiter, ipKey, limitOrThrow } from '../core/limits.js';
import type { Tessera } from '../tessera.js';

export type LimitClass = 'signup' | 'forgot' | 'mfa';

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
export function limitHooks(app: FastifyInstance, t: Tessera): void {
  const perSecond = new RequestLimiter(t.state, t.config.TESSERA_RATE_LIMIT_PER_SECOND);
  const per15 = t.config.TESSERA_LOGIN_LIMIT_PER_IP;
  const classes: Record<LimitClass, ReturnType<typeof t.state.limiter>> = {
    signup: t.state.limiter({ keyPrefix: 'signup:ip', points: Math.max(1, Math.floor(per15 / 5)), durationSec: 900 }),
    forgot: t.state.limiter({ keyPrefix: 'forgot:ip', points: Math.max(1, Math.floor(per15 / 5)), durationSec: 900 }),
    mfa: t.state.limiter({ keyPrefix: 'mfa:ip', points: per15, durationSec: 900 }),
  };
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (UNLIMITED.has(path)) return;
    const { headers } = await perSecond.consume(request.clientIp);
    const cls = request.routeOptions.config.limit;
    if (cls) {
      const r = await limitOrThrow(classes[cls], ipKey(request.clientIp));
      void reply.headers(r.headers);
    } else {
      void reply.headers(headers);
    }
  });
}
