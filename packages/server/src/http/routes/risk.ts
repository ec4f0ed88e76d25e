import { isIP } from 'node:net';
import type { FastifyReply } from 'fastify';
import { TesseraError } from '../../core/errors.js';
import type { AccessTokenClaims } from '../../core/tokens.js';
import type { ClientRow } from '../../store/ports/index.js';
import type { TesseraServices } from '../../tessera.js';
import { problemBody } from '../problem.js';
import type { ZodApp } from '../schemas/common.js';
import { reportSchema } from '../schemas/risk.js';
import { authenticateClient } from './oauth.js';

/** One answer for every accepted report, whatever the session: no oracle of which sessions exist or live. */
const RECEIVED = { status: 'received' } as const;

/**
 * The audience a client's reports must carry. Clients have no audience of their own yet: every resource
 * server shares the deployment's (the issuer by default), which is the one verifyAccessToken enforces.
 */
function audienceOf(_client: ClientRow, t: TesseraServices): string {
  return t.config.audience;
}

/** The access token the client saw, verified (signature, issuer, expiry) and addressed to that client. */
async function verifiedToken(t: TesseraServices, client: ClientRow, token: string): Promise<AccessTokenClaims | undefined> {
  const claims = await t.tokens.verifyAccessToken(token).catch(() => undefined);
  if (!claims) return undefined;
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  return aud.includes(audienceOf(client, t)) ? claims : undefined;
}

const invalidToken = (reply: FastifyReply) =>
  reply.code(400).type('application/problem+json').send({ ...problemBody('invalid_token', 'The reported token is not a valid access token for this client.'), status: 400 });

/**
 * A resource server reports a token it saw used from an impossible place. Each check stops one abuse of
 * a client's credentials: the token proves the client really saw this session (a bare session id, present
 * in every token, would let one client sign out anyone); the address must be an IP (no free text to carry
 * into a mail); a per-client budget bounds a compromised client; the report revokes only that session, and
 * anything account-wide needs the server's own rules to agree (RiskService.onReport).
 */
export function riskRoutes(app: ZodApp, t: TesseraServices): void {
  app.post('/v1/risk/reports', { schema: reportSchema }, async (request, reply) => {
    const client = await authenticateClient(t, request);
    const { body } = request;
    if (isIP(body.ip) === 0) throw new TesseraError('invalid_request', { detail: 'Invalid body/ip: not an IP address.' });
    const { headers } = await t.limits.consumeRiskReport(client.id);
    void reply.headers(headers);
    const claims = await verifiedToken(t, client, body.token);
    if (!claims) return invalidToken(reply);

    const session = await t.sessions.live(claims.sid);
    if (session && session.userId === claims.sub && (await t.sessions.revoke(session.id, 'risk_report'))) {
      const userAgent = body.user_agent ?? null;
      await t.events.record({
        type: 'session_revoked',
        userId: session.userId,
        sessionId: session.id,
        ip: body.ip,
        data: { via: 'risk_report', reported_by: client.id, user_agent: userAgent },
      });
      await t.risk.onReport(session, { ip: body.ip, userAgent, geo: t.geo.locate(body.ip) }, client.id);
    }
    return reply.code(202).header('Cache-Control', 'no-store').send(RECEIVED);
  });
}
