import { TOKEN_ERRORS, type ErrorDescription, type TokenChallenge } from '@tessera/sdk/edge';

/** A row of the server's error table: the SDK's shape, plus HTTP Basic for client authentication. */
export interface ServerErrorDescription extends Omit<ErrorDescription, 'challenge'> {
  challenge?: TokenChallenge | 'basic';
}

/**
 * Domain errors: one union of stable codes, each with its HTTP status, a public title, and what it means and
 * what to do (docs/errors.md is generated from this table). The token errors are the SDK's own table
 * (`@tessera/sdk/edge`), extended here, so a resource server and Tessera answer them alike. The HTTP edge
 * turns them into RFC 9457 problem+json; `reason` is internal detail kept for the audit log and the risk
 * engine, never sent to a client. Every 401 names its WWW-Authenticate challenge.
 */
export const ERRORS = {
  ...TOKEN_ERRORS,
  invalid_request: {
    status: 400,
    title: 'The request is not valid',
    meaning: 'The body, query or headers do not match the operation: a missing or unknown field, a wrong type, malformed JSON.',
    action: 'Fix the request as `detail` says; unknown fields are refused, never ignored.',
  },
  weak_password: {
    status: 400,
    title: 'The password does not meet the password policy',
    meaning: 'The new password is too short, too common, on the bundled breach list, or built on the email or the service name.',
    action: 'Choose a longer passphrase; `detail` says why this one was refused.',
  },
  invalid_grant: {
    status: 400,
    title: 'The grant is invalid, expired or revoked',
    meaning: 'The refresh token, code or one-time link is unknown, expired, already used or revoked.',
    action: 'Sign in again, or ask for a new link.',
  },
  unsupported_grant_type: {
    status: 400,
    title: 'The grant type is not supported',
    meaning: 'The token endpoint does not support this `grant_type`.',
    action: 'Use a grant type listed in the discovery document (`grant_types_supported`).',
  },
  unauthorized_client: {
    status: 400,
    title: 'The client may not use this grant type',
    meaning: 'The OAuth client is registered, but its type does not allow this grant (client_credentials for a non-service client, a refresh without offline_access).',
    action: 'Use a grant the client type allows, or register a client of the right type (`tessera clients create --type`).',
  },
  invalid_scope: {
    status: 400,
    title: 'The requested scope is invalid or not allowed',
    meaning: 'A requested scope is unknown, or not among the scopes the client was registered with.',
    action: 'Ask only for scopes registered for the client (`tessera clients create --scope`).',
  },
  invalid_target: {
    status: 400,
    title: 'The requested resource is not a registered audience',
    meaning: 'The RFC 8707 `resource` names no registered resource-server client.',
    action: 'Register the resource server (`tessera clients create --type resource --audience URI`) or send its exact audience URI.',
  },
  invalid_credentials: {
    status: 401,
    title: 'Wrong email or password',
    meaning: 'The email or password is wrong (the same answer whether or not the account exists), or a passkey sign-in failed.',
    action: 'Check both and try again; after repeated failures, wait, or reset the password.',
    challenge: 'credentials',
  },
  invalid_client: {
    status: 401,
    title: 'Client authentication failed',
    meaning: 'HTTP Basic authentication with a client id and secret is missing or wrong.',
    action: 'Check the resource server\'s client id and secret (`tessera clients create`), percent-encoded as RFC 6749 §2.3.1 says.',
    challenge: 'basic',
  },
  invalid_code: {
    status: 401,
    title: 'The code is wrong, expired or already used',
    meaning: 'The one-time code (authenticator app, SMS or recovery code) is wrong, expired, or was already used.',
    action: 'Enter a current code; every code works once.',
    challenge: 'credentials',
  },
  invalid_mfa_token: {
    status: 401,
    title: 'The MFA token is invalid, expired or already used',
    meaning: 'The `mfa_token` of a sign-in in progress is unknown, expired (after 5 minutes), already used, presented by another client, or its attempts are spent.',
    action: 'Start the sign-in again with email and password.',
    challenge: 'credentials',
  },
  refresh_token_reused: {
    status: 401,
    title: 'The refresh token was already used; the session is revoked',
    meaning: 'A refresh token that had already been rotated came back outside the grace window, a sign that someone else holds it: the whole session was revoked.',
    action: 'Sign in again. If it was not your own retry, someone copied the token: change your password.',
    challenge: 'invalid_token',
  },
  session_revoked: {
    status: 401,
    title: 'The session has been revoked',
    meaning: 'The session was signed out because of unusual activity (impossible travel or a device change), and a password reset is required.',
    action: 'Reset the password, then sign in again.',
    challenge: 'invalid_token',
  },
  password_reset_required: {
    status: 403,
    title: 'A password reset is required before signing in',
    meaning: 'The password was correct, but the account must reset it first (an administrator or a risk rule asked for it).',
    action: 'Reset the password with the emailed link (`POST /v1/password/forgot`).',
  },
  reauthentication_required: {
    status: 403,
    title: 'Sign in again to do this',
    meaning: 'This sensitive operation needs a sign-in within the last few minutes (`auth_time`).',
    action: 'Sign in again, then repeat the request.',
  },
  mfa_required: {
    status: 403,
    title: 'Sign in with a second factor to do this',
    meaning: 'Admin actions need a session signed in with a second factor (TESSERA_ADMIN_REQUIRE_MFA).',
    action: 'Sign out, sign in again with your authenticator app, passkey or recovery code, and retry.',
  },
  forbidden: {
    status: 403,
    title: 'You may not do this',
    meaning: 'The caller is signed in but lacks the right for this operation (for example an admin operation).',
    action: 'Use an account that has the right.',
  },
  approval_required: {
    status: 403,
    title: 'This sign-in needs approval by the account owner',
    meaning: 'The password was correct, but the account is under a password-guessing attack and this address has never signed in to it; a single-use approval link was mailed to the address of the account.',
    action: 'Open the approval link from the mail, then sign in again from the same device.',
  },
  email_unverified: {
    status: 403,
    title: 'The email address is not confirmed yet',
    meaning: 'The account has not proven that it owns its email address: the password was correct, but with `TESSERA_REQUIRE_VERIFIED_EMAIL` an unconfirmed account cannot sign in, and no unconfirmed account can set up a second factor. A new confirmation link was mailed (at most a few per hour).',
    action: 'Open the confirmation link from the mail (`POST /v1/email/verify`), or ask for a new one (`POST /v1/email/verification`).',
  },
  factor_locked: {
    status: 403,
    title: 'Authenticator codes are locked on this account',
    meaning: 'Too many wrong authenticator (TOTP) codes were entered for this account; TOTP is refused until a recovery code is used or the password is reset. The owner was mailed.',
    action: 'Sign in with a recovery code (`method: "recovery_code"`), or reset the password (`POST /v1/password/forgot`).',
  },
  account_disabled: {
    status: 403,
    title: 'The account is disabled',
    meaning: 'An administrator disabled this account: it cannot sign in or refresh, and its sessions were signed out.',
    action: 'Ask an administrator to enable it (`POST /v1/admin/users/{id}/enable`).',
  },
  account_locked: {
    status: 403,
    title: 'The account is locked',
    meaning: 'The account was locked and refuses sign-in.',
    action: 'Ask an administrator to unlock it (`POST /v1/admin/users/{id}/unlock`).',
  },
  not_found: {
    status: 404,
    title: 'Not found',
    meaning: 'No such route, or no such resource visible to the caller.',
    action: 'Check the path and the id.',
  },
  method_not_allowed: {
    status: 405,
    title: 'Method not allowed',
    meaning: 'The route exists, but not with this HTTP method.',
    action: 'Use one of the methods in the `Allow` header.',
  },
  email_taken: {
    status: 409,
    title: 'An account with this email exists',
    meaning: 'Another account already uses this email address.',
    action: 'Sign in to that account, or choose another address.',
  },
  conflict: {
    status: 409,
    title: 'Conflict',
    meaning: 'The request conflicts with the current state (for example a factor that is already enrolled).',
    action: 'Read the current state and retry.',
  },
  payload_too_large: {
    status: 413,
    title: 'The request body is too large',
    meaning: 'The request body exceeds 64 KiB.',
    action: 'Send a smaller body.',
  },
  unsupported_media_type: {
    status: 415,
    title: 'Unsupported content type',
    meaning: 'The body is not `application/json` (or `application/x-www-form-urlencoded` where OAuth requires it).',
    action: 'Send `Content-Type: application/json`.',
  },
  rate_limited: {
    status: 429,
    title: 'Too many requests',
    meaning: 'Too many requests from this address, or for this account.',
    action: 'Wait `Retry-After` seconds; the `RateLimit-*` headers show the budget.',
  },
  server_error: {
    status: 500,
    title: 'Internal server error',
    meaning: 'Something unexpected failed. The details are in the server\'s log, never in the response.',
    action: 'Retry later. Operators: find the request in the log.',
  },
  service_unavailable: {
    status: 503,
    title: 'Service unavailable',
    meaning: 'A dependency (the database or Redis) is unreachable, or this node is shutting down.',
    action: 'Retry after `Retry-After` seconds; another node may answer meanwhile.',
  },
} as const satisfies Record<string, ServerErrorDescription>;

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
