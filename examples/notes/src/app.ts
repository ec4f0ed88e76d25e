/**
 * The example resource server: a small notes API protected by @tessera/sdk. It never sees a signing secret
 * and makes no call to Tessera per request: tokens are verified locally against the published JWKS, and
 * revocations arrive over the server's push feed.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { createVerifier, type TesseraVerifier } from '@tessera/sdk';
import { requireAuth, tesseraAuth } from '@tessera/sdk/fastify';

export interface NotesOptions {
  issuer: string;
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  /**
   * This API's public origin (`https://notes.example.com`), the base of DPoP's `htu`. Required: a proof is
   * checked against it, never against the Host header, so a proof captured at another API is useless here.
   */
  origin: string;
  maxStalenessSec?: number;
  logger?: boolean;
  /**
   * Server-issued DPoP nonces (RFC 9449 §9) for key-bound browser sessions: their proofs must carry a
   * recent one. Every instance of the API shares the secret.
   */
  dpopNonce?: { secret: string | Uint8Array; windowSec?: number };
  /** The verifier's clock (tests). */
  now?: () => number;
}

interface Note {
  id: number;
  text: string;
  created_at: string;
}

export async function buildNotesApp(opts: NotesOptions): Promise<{ app: FastifyInstance; verifier: TesseraVerifier }> {
  const verifier = createVerifier({
    issuer: opts.issuer,
    ...(opts.clientId && opts.clientSecret ? { clientId: opts.clientId, clientSecret: opts.clientSecret } : {}),
    ...(opts.maxStalenessSec ? { maxStalenessSec: opts.maxStalenessSec } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  const app = Fastify({ logger: opts.logger ?? false });
  await app.register(tesseraAuth, { verifier, origin: opts.origin, ...(opts.dpopNonce ? { dpopNonce: opts.dpopNonce } : {}), ...(opts.now ? { now: opts.now } : {}) });
  app.addHook('onClose', async () => verifier.close());

  const notes = new Map<string, Note[]>();
  let nextId = 1;

  app.get('/healthz', async (_request, reply) => {
    // Ready only once the verifier holds the keys and a live revocation feed.
    if (!verifier.isHealthy()) return reply.code(503).send({ status: 'starting', ...verifier.stats() });
    return { status: 'ok' };
  });

  app.get('/notes', { preHandler: requireAuth }, async (request) => {
    const sub = request.auth!.sub;
    return { user: sub, notes: notes.get(sub) ?? [] };
  });

  app.post('/notes', { preHandler: requireAuth, schema: { body: { type: 'object', additionalProperties: false, required: ['text'], properties: { text: { type: 'string', minLength: 1, maxLength: 2000 } } } } }, async (request, reply) => {
    const sub = request.auth!.sub;
    const note: Note = { id: nextId++, text: (request.body as { text: string }).text, created_at: new Date().toISOString() };
    notes.set(sub, [...(notes.get(sub) ?? []), note]);
    return reply.code(201).send(note);
  });

  return { app, verifier };
}
