import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_DPOP_ALGORITHMS, PROBLEM_TYPE_BASE, wwwAuthenticate, type CredentialScheme } from '@tessera/sdk/edge';
import { ERRORS, TesseraError, type ErrorCode, type ServerErrorDescription } from '../core/errors.js';
import { UNAVAILABLE_RETRY_AFTER_SEC, isUnavailable } from '../lib/unavailable.js';

export { PROBLEM_TYPE_BASE };

declare module 'fastify' {
  interface FastifyRequest {
    /** set by the OAuth routes for requests of OAuth clients: their errors are sent as application/json */
    oauthProtocol: boolean;
  }
}

export function problemBody(code: ErrorCode, detail?: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { status, title } = ERRORS[code];
  return { type: `${PROBLEM_TYPE_BASE}${code}`, title, status, code, ...(detail ? { detail } : {}), ...extra };
}

/**
 * The WWW-Authenticate challenge of an error from the table (RFC 6750 / RFC 9449; HTTP Basic for client
 * authentication, RFC 6749 §5.2), in the scheme the credential came in; undefined for errors without one.
 */
export function challengeFor(code: ErrorCode, scheme?: CredentialScheme): string | undefined {
  const { challenge }: ServerErrorDescription = ERRORS[code];
  if (challenge === undefined) return undefined;
  if (challenge === 'basic') return 'Basic realm="tessera"';
  return wwwAuthenticate(challenge, { scheme, dpop: true, dpopAlgorithms: DEFAULT_DPOP_ALGORITHMS });
}

/** The challenge for a request that sent no credential at all: the schemes, without an error (RFC 6750 §3.1). */
export function credentialsChallenge(): string {
  return wwwAuthenticate('credentials', { dpop: true, dpopAlgorithms: DEFAULT_DPOP_ALGORITHMS });
}

const hasHeader = (headers: Record<string, string>, name: string): boolean => Object.keys(headers).some((k) => k.toLowerCase() === name);

/** Endpoints where RFC 6749 §5.2 (and RFC 6750 / OIDC Core) have clients read `error` from the body. */
const OAUTH_ENDPOINTS = /^\/(v1\/token|oauth\/)/;
const OAUTH_CODES: ReadonlySet<string> = new Set([
  'invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope', 'invalid_target', 'invalid_dpop_proof', 'invalid_token',
]);

/**
 * The RFC 6749 `error` (and `error_description`) beside the problem members, so standard OAuth clients
 * understand our refusals; codes of our own map to the nearest OAuth one (a reused or revoked grant is
 * `invalid_grant`).
 */
export function oauthErrorMembers(err: TesseraError): { error: string; error_description: string } {
  const error = OAUTH_CODES.has(err.code)
    ? err.code
    : err.code === 'refresh_token_reused' || err.code === 'session_revoked' || err.code === 'password_reset_required'
      ? 'invalid_grant'
      : err.status === 429 || err.status === 503
        ? 'temporarily_unavailable'
        : err.status >= 500
          ? 'server_error'
          : err.status === 403
            ? 'access_denied'
            : 'invalid_request';
  return { error, error_description: err.detail ?? ERRORS[err.code].title };
}

/** Sends a problem document. A 401 always carries a challenge (RFC 9110 §15.5.2); no error is ever cached. */
export function sendProblem(reply: FastifyReply, err: TesseraError): FastifyReply {
  for (const [k, v] of Object.entries(err.headers)) void reply.header(k, v);
  if (!hasHeader(err.headers, 'www-authenticate')) {
    const challenge = challengeFor(err.code);
    if (challenge !== undefined) void reply.header('WWW-Authenticate', challenge);
  }
  if (!hasHeader(err.headers, 'cache-control')) void reply.header('Cache-Control', 'no-store');
  const oauth = OAUTH_ENDPOINTS.test(reply.request.url) ? oauthErrorMembers(err) : {};
  // RFC 6749 §5.1–5.2: an OAuth client's token and userinfo requests are answered as application/json,
  // which standard libraries insist on; the body still carries every problem member.
  const type = reply.request.oauthProtocol ? 'application/json' : 'application/problem+json';
  return reply.code(err.status).type(type).send(problemBody(err.code, err.detail, { ...err.extra, ...oauth }));
}

/**
 * Map anything thrown to RFC 9457 problem+json. Domain errors keep their code; Fastify's own errors (body
 * too large, bad JSON, wrong content type, schema) map to stable codes; anything else is a bland 500 whose
 * detail stays in the log — no stack, SQL, path or library message reaches a client.
 */
export function toTesseraError(err: unknown): TesseraError {
  if (err instanceof TesseraError) return err;
  const fe = err as Partial<FastifyError> & { validation?: unknown[]; validationContext?: string };
  if (fe && typeof fe === 'object') {
    if (fe.validation) {
      return new TesseraError('invalid_request', { detail: validationDetail(fe), reason: fe.message });
    }
    switch (fe.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return new TesseraError('payload_too_large', { detail: 'The request body exceeds 64 KiB.' });
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return new TesseraError('unsupported_media_type', { detail: 'Send application/json.' });
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return new TesseraError('invalid_request', { detail: 'The JSON body is empty.' });
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return new TesseraError('invalid_request', { detail: 'The body is not valid JSON.' });
    }
    if (fe instanceof SyntaxError || fe.statusCode === 400) {
      return new TesseraError('invalid_request', { detail: 'The request is malformed.', reason: fe.message });
    }
    if (fe.statusCode === 413) return new TesseraError('payload_too_large', { detail: 'The request body exceeds 64 KiB.' });
    if (fe.statusCode === 415) return new TesseraError('unsupported_media_type');
  }
  // A dependency down (PostgreSQL, MySQL, Redis unreachable) is 503 with Retry-After, never a 500: clients
  // and load balancers back off, and the node serves again by itself once the dependency is back.
  if (isUnavailable(err)) {
    return new TesseraError('service_unavailable', {
      reason: err instanceof Error ? err.message : String(err),
      headers: { 'Retry-After': String(UNAVAILABLE_RETRY_AFTER_SEC) },
    });
  }
  return new TesseraError('server_error', { reason: err instanceof Error ? err.message : String(err) });
}

function validationDetail(fe: { validation?: unknown[]; validationContext?: string }): string {
  const first = (fe.validation?.[0] ?? {}) as { instancePath?: string; message?: string; keyword?: string; params?: Record<string, unknown> };
  const where = `${fe.validationContext ?? 'body'}${first.instancePath ?? ''}`;
  if (first.keyword === 'additionalProperties') return `Unknown field "${String(first.params?.additionalProperty)}" in ${where}.`;
  if (first.keyword === 'required') return `Missing field "${String(first.params?.missingProperty)}" in ${where}.`;
  return `Invalid ${where}: ${first.message ?? 'does not match the schema'}.`;
}

export function errorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const te = toTesseraError(err);
  if (te.code === 'service_unavailable') request.log.warn({ reason: te.reason }, 'dependency unavailable');
  else if (te.status >= 500) request.log.error({ err }, 'request failed');
  else request.log.info({ code: te.code, reason: te.reason }, 'request refused');
  return sendProblem(reply, te);
}
