import type { TesseraServices } from '../../tessera.js';
import type { ZodApp } from '../schemas/common.js';
import { reportSchema } from '../schemas/risk.js';
import { authenticateClient } from './oauth.js';

/** A resource server (client credentials) reports a token used from a suspicious place or device. */
export function riskRoutes(app: ZodApp, t: TesseraServices): void {
  app.post('/v1/risk/reports', { schema: reportSchema }, async (request) => {
    await authenticateClient(t, request);
    const { body } = request;
    const session = await t.sessions.get(body.sid);
    if (!session) return { action: 'allow', session: 'unknown' };
    const verdict = await t.risk.onReport(session, { ip: body.ip, userAgent: body.user_agent ?? null, geo: t.geo.locate(body.ip) });
    return verdict.action === 'allow' ? { action: 'allow' } : { action: verdict.action, event: verdict.event };
  });
}
