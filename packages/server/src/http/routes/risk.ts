import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { TesseraServices } from '../../tessera.js';
import { jsonSchema } from '../schema.js';
import { authenticateClient } from './oauth.js';

const ReportBody = z.strictObject({
  sid: z.string().min(1).max(64),
  ip: z.string().min(2).max(64),
  user_agent: z.string().max(512).nullable().optional(),
});

/** A resource server (client credentials) reports a token used from a suspicious place or device. */
export function riskRoutes(app: FastifyInstance, t: TesseraServices): void {
  app.post('/v1/risk/reports', { schema: { tags: ['resource servers'], body: jsonSchema(ReportBody) } }, async (request) => {
    await authenticateClient(t, request);
    const body = request.body as z.infer<typeof ReportBody>;
    const session = await t.sessions.get(body.sid);
    if (!session) return { action: 'allow', session: 'unknown' };
    const verdict = await t.risk.onReport(session, { ip: body.ip, userAgent: body.user_agent ?? null, geo: t.geo.locate(body.ip) });
    return verdict.action === 'allow' ? { action: 'allow' } : { action: verdict.action, event: verdict.event };
  });
}
