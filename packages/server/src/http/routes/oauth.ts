import type { FastifyRequest } from 'fastify';
import { TesseraError } from '../../core/errors.js';
import type { ClientRow } from '../../store/ports/index.js';
import type { TesseraServices } from '../../tessera.js';
import type { ZodApp } from '../schemas/common.js';
import { introspectSchema, revokeSchema } from '../schemas/oauth.js';

/** HTTP Basic client authentication (RFC 6749 §2.3.1) against `tessera clients create` credentials. */
function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

export async function authenticateClient(t: TesseraServices, request: FastifyRequest): Promise<ClientRow> {
  const header = request.headers.authorization;
  const m = header ? /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header) : null;
  if (!m) throw new TesseraError('invalid_client', { headers: { 'WWW-Authenticate': 'Basic realm="tessera"' } });
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  // RFC 6749 §2.3.1 form-encoding; a malformed escape (`%zz`) is bad credentials (401), not a server error.
  const id = safeDecode(decoded.slice(0, colon));
  const secret = safeDecode(decoded.slice(colon + 1));
  // The secret is compared even for an unknown id, so timing does not reveal which client ids exist.
  const client = await t.clients.authenticate(colon > 0 && id !== undefined && secret !== undefined ? id : undefined, secret ?? '');
  if (!client) throw new TesseraError('invalid_client', { headers: { 'WWW-Authenticate': 'Basic realm="tessera"' } });
  return client;
}

export function oauthRoutes(app: ZodApp, t: TesseraServices): void {
  // RFC 7009: always 200, whether the token was valid, unknown or already revoked (no token oracle).
  // Possession of a token is the authority to revoke it (our refresh tokens belong to public clients).
  app.post('/oauth/revoke', { schema: revokeSchema }, async (request, reply) => {
    const { token } = request.body;
    await t.introspection.revoke(token, request.clientIp);
    return reply.code(200).header('Cache-Control', 'no-store').send();
  });

  app.post('/oauth/introspect', { schema: introspectSchema }, async (request, reply) => {
    const client = await authenticateClient(t, request);
    const { token } = request.body;
    void reply.header('Cache-Control', 'no-store');
    return t.introspection.introspect(token, client.id);
  });
}
