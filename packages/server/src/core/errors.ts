/**
 * Domain errors: one union of stable codes, each with its HTTP status and a public title.
 * The HTTP edge turns them into RFC 9457 problem+json; `reason` is internal detail kept for the audit log
 * and the risk engine, never sent to a client.
 */
export const ERRORS = {
  invalid_request: { status: 400, title: 'The request is not valid' },
  weak_password: { status: 400, title: 'The password does not meet the password policy' },
  invalid_grant: { status: 400, title: 'The grant is invalid, expired or revoked' },
  unsupported_grant_type: { status: 400, title: 'The grant type is not supported' },
  invalid_credentials: { status: 401, title: 'Wrong email or password' },
  invalid_token: { status: 401, title: 'The access token is missing, invalid or expired' },
  invalid_client: { status: 401, title: 'Client authentication failed' },
  invalid_code: { status: 401, title: 'The code is wrong, expired or already used' },
  invalid_mfa_token: { status: 401, title: 'The MFA token is invalid, expired or already used' },
  invalid_dpop_proof: { status: 401, title: 'The DPoP proof is invalid' },
  refresh_token_reused: { status: 401, title: 'The refresh token was already used; the session is revoked' },
  session_revoked: { status: 401, title: 'The session has been revoked' },
  password_reset_required: { status: 403, title: 'A password reset is required before signing in' },
  reauthentication_required: { status: 403, title: 'Sign in again to do this' },
  mfa_required: { status: 403, title: 'Sign in with a second factor to do this' },
  csrf_failed: { status: 403, title: 'Cross-site request refused' },
  forbidden: { status: 403, title: 'You may not do this' },
  insufficient_scope: { status: 403, title: 'The token lacks the required scope or role' },
  account_locked: { status: 403, title: 'The account is locked' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  email_taken: { status: 409, title: 'An account with this email exists' },
  conflict: { status: 409, title: 'Conflict' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported content type' },
  rate_limited: { status: 429, title: 'Too many requests' },
  server_error: { status: 500, title: 'Internal server error' },
  service_unavailable: { status: 503, title: 'Service unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class TesseraError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Public, client-safe explanation (optional). */
  readonly detail: string | undefined;
  /** Internal reason for logs, events and the risk engine; never sent to a client. */
  readonly reason: string | undefined;
  /** Extra response headers (Retry-After, WWW-Authenticate, …). */
  readonly headers: Record<string, string>;
  /** Extra members of the problem document (e.g. `errors` from validation). */
  readonly extra: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    opts: { detail?: string; reason?: string; headers?: Record<string, string>; extra?: Record<string, unknown> } = {},
  ) {
    super(opts.reason ?? ERRORS[code].title);
    this.name = 'TesseraError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.detail = opts.detail;
    this.reason = opts.reason;
    this.headers = opts.headers ?? {};
    this.extra = opts.extra ?? {};
  }
}

export function isTesseraError(err: unknown): err is TesseraError {
  return err instanceof TesseraError;
}
