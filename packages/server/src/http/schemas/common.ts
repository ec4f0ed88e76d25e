import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ERRORS, type ErrorCode } from '../../core/errors.js';

/**
 * Route schemas are written once in zod (one file per area under this folder): Fastify validates requests
 * and serializes responses with them (fastify-type-provider-zod), handlers get the inferred types, and
 * /openapi.json is generated from the same objects, so the document describes exactly what is enforced.
 */
export type ZodApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

export const Email = z.string().min(3).max(320).regex(/^\s*[^\s@]+@[^\s@]+\s*$/u, 'an email address'); // trimmed before use
export const Password = z.string().min(1).max(4096);
export const Transport = z.enum(['bearer', 'cookie']).describe('`bearer` (default): tokens in the body; `cookie`: httpOnly cookies for browsers');
export const IsoTime = z.string().describe('ISO 8601 time');
/** `limit` (≤ 200) and `before` (an event id) page a newest-first event list; query values are strings. */
export const EventPage = {
  limit: z.string().regex(/^\d{1,3}$/).optional().describe('how many events (at most 200)'),
  before: z.string().regex(/^\d{1,15}$/).optional().describe('only events older than this event id'),
};

/**
 * A string answered with one of `values`. The document lists them; the schema accepts any string because
 * TypeScript widens the literals of a handler's returned object to `string`.
 */
export const OneOf = (...values: string[]) => z.string().meta({ enum: values });

/** A response without a body (204, or RFC 7009's empty 200). */
export const NoContent = (description: string) => z.undefined().describe(description);

/**
 * An RFC 9457 problem document. Extension members are allowed (e.g. `checks` on /readyz), so the object is
 * open; `code` lists, in the OpenAPI document, the codes the operation can answer with at that status.
 */
function problemFor(status: number, codes: readonly ErrorCode[]) {
  const list = codes.map((c) => `\`${c}\` (${ERRORS[c].title})`).join('; ');
  return {
    description: `Problem: ${list}`,
    content: {
      'application/problem+json': {
        schema: z.looseObject({
          type: z.string().describe('a URI naming the problem type'),
          title: z.string(),
          status: z.number().int().meta({ enum: [status] }),
          code: z.string().meta({ enum: [...codes] }).describe('stable, snake_case: switch on this'),
          detail: z.string().optional().describe('a human-readable explanation, safe to show'),
        }),
      },
    },
  };
}
type ProblemResponse = ReturnType<typeof problemFor>;

export type SecurityRequirement = Record<string, string[]>;
/** Access token as `Authorization: Bearer`, as `Authorization: DPoP` with a proof, or the access cookie. */
export const USER_READ: SecurityRequirement[] = [{ bearer: [] }, { dpop: [] }, { accessCookie: [] }];
/** Unsafe methods in cookie mode also carry the session-bound `X-CSRF-Token` header. */
export const USER_WRITE: SecurityRequirement[] = [{ bearer: [] }, { dpop: [] }, { accessCookie: [], csrfHeader: [] }];
/** Resource-server client credentials (`tessera clients create`) as HTTP Basic. */
export const CLIENT: SecurityRequirement[] = [{ clientBasic: [] }];

/** What an authenticated user route can answer besides its own codes. */
export const AUTH_READ_ERRORS: ErrorCode[] = ['invalid_token', 'invalid_dpop_proof'];
export const AUTH_WRITE_ERRORS: ErrorCode[] = ['invalid_token', 'invalid_dpop_proof', 'csrf_failed'];

interface OpInput {
  summary: string;
  description?: string;
  tags: string[];
  security?: SecurityRequirement[];
  consumes?: string[];
  body?: z.ZodType;
  querystring?: z.ZodType;
  params?: z.ZodType;
  response: Record<number, unknown>;
  /** codes this operation answers with, besides the ones every route can give (see `op`) */
  errors: ErrorCode[];
  /** not under the per-IP request limit (operations probes) */
  unlimited?: boolean;
}

/**
 * One operation's schema: request and success schemas as given, plus a problem+json response for each
 * error status it can answer with. Every route can answer 429 (per-IP limit), 500 and 503 (a dependency
 * down, or the node draining); a route with a request schema can answer 400, and one with a body 413/415.
 */
export function op<const T extends OpInput>(def: T): Omit<T, 'errors' | 'unlimited' | 'response'> & { response: T['response'] } {
  const { errors, unlimited, response, ...rest } = def;
  const codes = new Set<ErrorCode>(errors);
  if (def.body || def.querystring || def.params) codes.add('invalid_request');
  if (def.body) {
    codes.add('payload_too_large');
    codes.add('unsupported_media_type');
  }
  if (!unlimited) codes.add('rate_limited');
  codes.add('server_error');
  codes.add('service_unavailable');
  const byStatus = new Map<number, ErrorCode[]>();
  for (const c of codes) byStatus.set(ERRORS[c].status, [...(byStatus.get(ERRORS[c].status) ?? []), c]);
  const problems: Record<number, ProblemResponse> = {};
  for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0])) problems[status] = problemFor(status, list);
  return { ...rest, response: Object.assign(problems, response) };
}
