import { guardSettings, runGuard } from './guard.js';
import type { GuardNeeds, HttpAuthOptions } from './guard.js';
import type { HeaderBag } from './edge/headers.js';
import type { AccessTokenClaims } from './jwt.js';
import { createVerifier } from './verifier.js';
import type { TesseraVerifier, VerifierOptions } from './verifier.js';

/** The parts of Express's request we use; typed locally so express is not a dependency of the SDK. */
export interface ExpressLikeRequest {
  method: string;
  url: string;
  originalUrl?: string;
  headers: HeaderBag;
  /** Node's raw header list (Express requests have it), where a repeated Authorization header shows. */
  rawHeaders?: string[];
  ip?: string | undefined;
  auth?: AccessTokenClaims | null;
}

export interface ExpressLikeResponse {
  statusCode: number;
  headersSent?: boolean;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
}

export type ExpressNext = (err?: unknown) => void;
export type ExpressMiddleware = (req: ExpressLikeRequest, res: ExpressLikeResponse, next: ExpressNext) => void;

export interface TesseraExpress {
  verifier: TesseraVerifier;
  /** Middleware: a valid, unrevoked token (and DPoP proof when bound) is required; sets `req.auth`. */
  requireAuth: ExpressMiddleware;
  /** Middleware: additionally the token must carry at least one of `roles`. */
  requireRole: (...roles: string[]) => ExpressMiddleware;
  /** Middleware: additionally the token's `scope` must include every one of `scopes`. */
  requireScope: (...scopes: string[]) => ExpressMiddleware;
}

export type { HttpAuthOptions } from './guard.js';
export type TesseraExpressOptions = ({ verifier: TesseraVerifier } | VerifierOptions) & HttpAuthOptions;

/**
 * Express middleware. With verifier options (instead of a `verifier`) a verifier is created and started;
 * call `verifier.close()` on shutdown.
 */
export function tesseraAuth(opts: TesseraExpressOptions): TesseraExpress {
  // Settings first: options that cannot work are refused before a verifier starts fetching anything.
  const settings = guardSettings(opts, '@tessera/sdk/express');
  const owned = !('verifier' in opts);
  const verifier = 'verifier' in opts ? opts.verifier : createVerifier(opts);
  if (owned) verifier.ready().catch(() => undefined);

  const guard =
    (needs: GuardNeeds): ExpressMiddleware =>
    (req, res, next) => {
      const path = req.originalUrl ?? req.url;
      runGuard(
        verifier,
        settings,
        {
          method: req.method,
          headers: req.headers,
          rawHeaders: req.rawHeaders,
          path,
          ip: req.ip,
          existing: req.auth,
        },
        needs,
      ).then(
        (result) => {
          if (result.nonce !== undefined) res.setHeader('DPoP-Nonce', result.nonce);
          if (result.ok) {
            req.auth = result.claims;
            next();
            return;
          }
          res.statusCode = result.problem.status;
          for (const [k, v] of Object.entries(result.problem.headers)) res.setHeader(k, v);
          res.end(JSON.stringify(result.problem.body));
        },
        (err: unknown) => next(err),
      );
    };

  return {
    verifier,
    requireAuth: guard({}),
    requireRole: (...roles) => guard({ roles }),
    requireScope: (...scopes) => guard({ scopes }),
  };
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Verified access-token claims, set by the Tessera middleware. */
      auth?: AccessTokenClaims | null;
    }
  }
}
