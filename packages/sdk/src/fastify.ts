import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { guardSettings, meetsNeeds, rawBearerCandidate, runGuard } from './guard.js';
import type { GuardNeeds, GuardSettings, HttpAuthOptions } from './guard.js';
import type { AccessTokenClaims } from './jwt.js';
import { createVerifier, verifyNowOf } from './verifier.js';
import { TesseraTokenError } from './errors.js';
import { isToken68 } from './edge/credentials.js';
import { problemFor } from './edge/problem.js';
import type { ChallengeOptions, Problem } from './edge/problem.js';
import type { TesseraVerifier, VerifierOptions } from './verifier.js';

/** Fastify's continuation for a callback-style hook. */
export type HookDone = (err?: Error) => void;

/**
 * A route preHandler. Fastify passes `done`: a request the fast path accepts then goes on synchronously,
 * without a promise or another microtask; anything else returns a promise, as an async hook does. Called
 * without `done` (from your own hook), it always returns a promise.
 */
export type PreHandler = (request: FastifyRequest, reply: FastifyReply, done?: HookDone) => Promise<FastifyReply | undefined> | undefined;

type AsyncPreHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;

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
  const full: AsyncPreHandler = async (request, reply) => {
    const result = await runGuard(
      verifier,
      settings,
      {
        method: request.method,
        headers: request.headers,
        rawHeaders: request.raw.rawHeaders,
        path: request.url,
        ip: request.ip,
        existing: request.auth,
      },
      needs,
    );
    if (result.nonce !== undefined) void reply.header('DPoP-Nonce', result.nonce);
    if (result.ok) {
      request.auth = result.claims;
      return undefined;
    }
    return send(reply, result.problem);
  };
  const quick = verifyNowOf(verifier);
  if (quick === undefined) return (request, reply) => full(request, reply);
  const bearer: ChallengeOptions = { ...settings.challenge, scheme: 'bearer' };
  const cookieName = settings.policy.cookieName;
  // A plain Bearer token is checked without a promise chain, a context object or a URL: a known one costs a
  // few Map lookups, a new one the signature check and little else.
  return (request, reply, done) => {
    if ((request.auth ?? null) === null) {
      const token = rawBearerCandidate(request.raw.rawHeaders, cookieName);
      if (token !== undefined) {
        let claims: AccessTokenClaims | undefined;
        try {
          claims = quick(token);
        } catch (err) {
          // Answered here only when the full path would read the very same Bearer token from the header.
          if (!(err instanceof TesseraTokenError) || !isToken68(token)) return full(request, reply);
          return refuse(reply, problemFor(err, bearer));
        }
        if (claims !== undefined && meetsNeeds(claims, needs)) {
          request.auth = claims;
          if (done === undefined) return DONE;
          done();
          return undefined;
        }
      }
    }
    return full(request, reply);
  };
}

function send(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).headers(problem.headers).send(problem.body);
}

const refuse = async (reply: FastifyReply, problem: Problem): Promise<FastifyReply> => send(reply, problem);

/** Calls a guard, turning a synchronous throw into a rejection as an async function would. */
function settle(run: () => Promise<FastifyReply | undefined> | undefined): Promise<FastifyReply | undefined> | undefined {
  try {
    return run();
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

async function plugin(app: FastifyInstance, opts: TesseraAuthOptions): Promise<void> {
  // Settings first: options that cannot work are refused before a verifier starts fetching anything.
  const settings = guardSettings(opts, '@tessera/sdk/fastify');
  const owned = !('verifier' in opts);
  const verifier = 'verifier' in opts ? opts.verifier : createVerifier(opts);
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
export const requireAuth: PreHandler = (request, reply, done) => settle(() => request.server.tessera.requireAuth(request, reply, done));

/** preHandler: the token must carry at least one of `roles`. */
export function requireRole(...roles: string[]): PreHandler {
  let g: PreHandler | undefined;
  return (request, reply, done) => settle(() => (g ??= request.server.tessera.requireRole(...roles))(request, reply, done));
}

/** preHandler: the token's `scope` must include every one of `scopes`. */
export function requireScope(...scopes: string[]): PreHandler {
  let g: PreHandler | undefined;
  return (request, reply, done) => settle(() => (g ??= request.server.tessera.requireScope(...scopes))(request, reply, done));
}
