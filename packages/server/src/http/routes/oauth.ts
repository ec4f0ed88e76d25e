import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseOpaqueToken, safeEqual, sha256 } from '../../core/crypto.js';
import { TesseraError } from '../../core/errors.js';
import type { ClientRow } from '../../store/types.js';
import type { Tessera } from '../../tessera.js';
import { jsonSchema } from '../schema.js';

const RevokeBody = z.strictObject({
  token: z.string().max(8192),
  token_type_hint: z.string().max(50).optional(),
  client_id: z.string().max(200).optional(),
});
const IntrospectBody = RevokeBody;

/** HTTP Basic client authentication (RFC 6749 §2.3.1) against `tessera clients create` credentials. */
function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

export async function authenticateClient(t: Tessera, request: FastifyRequest): Promise<ClientRow> {
  const header = request.headers.authorization;
  const m = header ? /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header) : null;
  if (!m) throw new TesseraError('invalid_client', { headers: { 'WWW-Authenticate': 'Basic realm="tessera"' } });
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  // RFC 6749 §2.3.1 form-encoding; a malformed escape (`%zz`) is bad credentials (401), not a server error.
  const id = safeDecode(decoded.slice(0, colon));
  const secret = safeDecode(decoded.slice(colon + 1));
  const client = colon > 0 && id !== undefined && secret !== undefined ? await t.store.getClient(id) : undefined;
  // Compare even for an unknown id, so timing does not reveal which client ids exist.
  const ok = safeEqual(client?.secretHash ?? sha256('no such client'), sha256(secret ?? ''));
  if (!client || !ok) throw new TesseraError('invalid_client', { headers: { 'WWW-Authenticate': 'Basic realm="tessera"' } });
  return client;
}

export function oauthRoutes(app: FastifyInstance, t: Tessera): void {
  // RFC 7009: always 200, whether the token was valid, unknown or already revoked (no token oracle).
  // Possession of a token is the authority to revoke it (our refresh tokens belong to public clients).
  app.post('/oauth/revoke', { schema: { tags: ['oauth'], body: jsonSchema(RevokeBody) } }, async (request, reply) => {
    const { token } = request.body as z.infer<typeof RevokeBody>;
    const opaque = parseOpaqueToken(token);
    if (opaque) {
      const row = await t.store.getRefreshToken(opaque.id);
      if (row && safeEqual(row.secretHash, sha256(opaque.secret)) && (await t.sessions.revoke(row.sessionId, 'token_revoked'))) {
        const s = await t.store.getSession(row.sessionId);
        await t.events.record({ type: 'session_revoked', userId: s?.userId ?? null, sessionId: row.sessionId, ip: request.clientIp, data: { via: 'oauth_revoke' } });
      }
    } else {
      const claims = await t.tokens.verifyAccessToken(token).catch(() => undefined);
      if (claims && (await t.sessions.revoke(claims.sid, 'token_revoked'))) {
        await t.events.record({ type: 'session_revoked', userId: claims.sub, sessionId: claims.sid, ip: request.clientIp, data: { via: 'oauth_revoke' } });
      }
    }
    return reply.code(200).header('Cache-Control', 'no-store').send();
  });

  app.post('/oauth/introspect', { schema: { tags: ['oauth'], body: jsonSchema(IntrospectBody) } }, async (request, reply) => {
    const client = await authenticateClient(t, request);
    const { token } = request.body as z.infer<typeof IntrospectBody>;
    void reply.header('Cache-Control', 'no-store');
    const claims = await t.tokens.verifyAccessToken(token).catch(() => undefined);
    if (claims) {
      const live = await t.sessions.live(claims.sid);
      if (!live) return { active: false };
      return { ...claims, active: true, token_type: claims.cnf ? 'DPoP' : 'Bearer', client_id: client.id };
    }
    const opaque = parseOpaqueToken(token);
    if (opaque) {
      const row = await t.store.getRefreshToken(opaque.id);
      if (row && row.usedAt === null && safeEqual(row.secretHash, sha256(opaque.secret))) {
        const s = await t.sessions.live(row.sessionId);
        if (s) {
          return { active: true, token_type: 'refresh_token', sub: s.userId, sid: s.id, exp: Math.floor(row.expiresAt / 1000), iss: t.config.issuer };
        }
      }
    }
    return { active: false };
  });
}
