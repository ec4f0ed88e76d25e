import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { guardSettings, meetsNeeds, rawBearerCandidate, runGuard } from './guard.js';
import type { GuardNeeds, GuardSettings, HttpAuthOptions } from './guard.js';
import type { AccessTokenClaims } from './jwt.js';
import { cachedVerifyOf, createVerifier } from './verifier.js';
import type { TesseraVerifier, VerifierOptions } from './verifier.js';

export type PreHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;

export interface TesseraFastify {
  verifier: TesseraVerifier;
  requireAuth: PreHandler;
  requireRole: (...roles: string[]) => PreHandler;
  requireScope: (...scopes: string[]) => PreHandler;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified access-token claims, set by requireAuth / requireRole / requireScope; null before. */
    auth: AccessTokenClaims | null;
  }
  interface FastifyInstance {
    tessera: TesseraFastify;
  }
}

/** Either an existing verifier (shared, closed by its owner) or options to create one owned by the app. */
export type TesseraAuthOptions = ({ verifier: TesseraVerifier } | VerifierOptions) & HttpAuthOptions;

const DONE: Promise<undefined> = Promise.resolve(undefined);

function guard(verifier: TesseraVerifier, settings: GuardSettings, needs: GuardNeeds): PreHandler {
  const full: PreHandler = async (request, reply) => {
    const result = await runGuard(
      verifier,
      settings,
      {
        method: request.method,
        headers: request.headers,
        protocol: request.protocol,
        host: request.host,
        path: request.url,
        ip: request.ip,
        existing: request.auth,
      },
      needs,
    );
    if (result.ok) {
      request.auth = result.claims;
      return undefined;
    }
    return reply.code(result.problem.status).headers(result.problem.headers).send(result.problem.body);
  };
  const cached = cachedVerifyOf(verifier);
  if (cached === undefined) return full;
  // A known Bearer token costs a few Map lookups: no promise chain, no context object, no URL built.
  return (request, reply) => {
    if ((request.auth ?? null) === null) {
      const token = rawBearerCandidate(request.raw.rawHeaders);
      const claims = token === undefined ? undefined : cached(token);
      if (claims !== undefined && meetsNeeds(claims, needs)) {
        request.auth = claims;
        return DONE;
      }
    }
    return full(request, reply);
  };
}

/** Calls a guard, turning a synchronous throw into a rejection as an async function would. */
function settle(run: () => Promise<FastifyReply | undefined>): Promise<FastifyReply | undefined> {
  try {
    return run();
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

async function plugin(app: FastifyInstance, opts: TesseraAuthOptions): Promise<void> {
  const owned = !('verifier' in opts);
  const verifier = 'verifier' in opts ? opts.verifier : createVerifier(opts);
  const settings = guardSettings(opts);
  app.decorateRequest('auth', null);
  app.decorate('tessera', {
    verifier,
    requireAuth: guard(verifier, settings, {}),
    requireRole: (...roles: string[]) => guard(verifier, settings, { roles }),
    requireScope: (...scopes: string[]) => guard(verifier, settings, { scopes }),
  } satisfies TesseraFastify);
  if (owned) {
    // Start fetching keys and the feed now; until then requests get 503, which is the honest answer.
    verifier.ready().catch(() => undefined);
    app.addHook('onClose', async () => verifier.close());
  }
}

/** Registers `request.auth` and `app.tessera`; protect routes with the preHandlers below. */
export const tesseraAuth = fp(plugin, { fastify: '5.x', name: '@tessera/sdk' });
export default tesseraAuth;
export type { HttpAuthOptions } from './guard.js';

/** preHandler: a valid, unrevoked token (and DPoP proof when bound) is required. */
export const requireAuth: PreHandler = (request, reply) => settle(() => request.server.tessera.requireAuth(request, reply));

/** preHandler: the token must carry at least one of `roles`. */
export function requireRole(...roles: string[]): PreHandler {
  let g: PreHandler | undefined;
  return (request, reply) => settle(() => (g ??= request.server.tessera.requireRole(...roles))(request, reply));
}

/** preHandler: the token's `scope` must include every one of `scopes`. */
export function requireScope(...scopes: string[]): PreHandler {
  let g: PreHandler | undefined;
  return (request, reply) => settle(() => (g ??= request.server.tessera.requireScope(...scopes))(request, reply));
}
