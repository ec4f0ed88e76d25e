import { z } from 'zod';
import { AUTH_WRITE_ERRORS, Email, NoContent, Password, Transport, USER_WRITE, op, type SecurityRequirement } from './common.js';

const sessionId = z.string().describe('the session these tokens belong to');
export const TokenResponse = z
  .object({
    access_token: z.string().describe('RFC 9068 JWT access token'),
    token_type: z.enum(['Bearer', 'DPoP']).describe('`DPoP` when the request carried a DPoP proof: the tokens are bound to its key'),
    expires_in: z.number().int().describe('access-token lifetime, seconds'),
    refresh_token: z.string().describe('opaque, single use: every refresh returns a new one'),
    session_id: sessionId,
  })
  .describe('Signed in (bearer transport)');
export const CookieSessionResponse = z
  .object({ expires_in: z.number().int().describe('access-cookie lifetime, seconds'), session_id: sessionId })
  .describe('Signed in (cookie transport): the tokens are in httpOnly cookies, never in the body');
export const MfaRequiredResponse = z
  .object({
    mfa_required: z.literal(true),
    mfa_token: z.string().describe('single use, 5 minutes; redeem at /v1/login/mfa or /v1/login/webauthn'),
    methods: z.array(z.string()).describe('second factors this account can use: `totp`, `webauthn`, `recovery_code`, `sms_otp`, `email_otp`'),
  })
  .describe('The password was right; a second factor is required');
/** What every sign-in step answers: tokens in the body, or cookies. */
export const SignedIn = z.union([TokenResponse, CookieSessionResponse]).describe('Signed in: tokens in the body (bearer) or in cookies (cookie)');

export const RegisterBody = z.strictObject({ email: Email, password: Password });
export const LoginBody = z.strictObject({ email: Email, password: Password, transport: Transport.optional() });
export const TokenBody = z.strictObject({
  grant_type: z.string().max(100).describe('`refresh_token`, `authorization_code` or `client_credentials`'),
  refresh_token: z.string().max(512).optional().describe('omit in cookie mode: the refresh cookie is used'),
  transport: Transport.optional(),
  client_id: z.string().max(200).optional().describe('an OAuth client: with `client_secret` (client_secret_post) or alone (a public client)'),
  client_secret: z.string().max(512).optional(),
  scope: z.string().max(1000).optional(),
  code: z.string().max(512).optional().describe('authorization_code: the code from the redirect'),
  redirect_uri: z.string().max(2000).optional().describe('authorization_code: the redirect URI of the authorization request'),
  code_verifier: z.string().max(128).optional().describe('authorization_code: the PKCE verifier (RFC 7636)'),
  resource: z.string().max(2000).optional().describe('client_credentials: a registered audience URI (RFC 8707)'),
});
export const OAuthTokenResponse = z
  .object({
    access_token: z.string().describe('RFC 9068 JWT access token; `aud` the requested resource, else the issuer'),
    token_type: z.enum(['Bearer', 'DPoP']),
    expires_in: z.number().int(),
    scope: z.string().describe('the scopes granted'),
    id_token: z.string().optional().describe('with scope `openid`: an RS256 OpenID Connect ID token'),
    refresh_token: z.string().optional().describe('with scope `offline_access` only; rotated on every use'),
  })
  .describe('An OAuth client\'s tokens (authorization_code, client_credentials, or a refresh of its session)');

/** `POST /v1/token` also takes the refresh cookie, which needs the CSRF header with it. */
const TOKEN_SECURITY: SecurityRequirement[] = [{}, { refreshCookie: [], csrfHeader: [] }];
const SIGN_IN_ERRORS = ['invalid_dpop_proof', 'session_revoked'] as const;

export const registerSchema = op({
  summary: 'Create an account (a verification link is mailed)',
  description:
    'The same 202 and body, in comparable time, whether or not the address is taken: a new address gets a verification link (`{issuer}/verify-email?token=…`, single use, 24 hours), an address that has an account gets a mail telling its owner, with sign-in and reset links.',
  tags: ['accounts'],
  body: RegisterBody,
  response: { 202: z.object({ status: z.literal('verification_sent') }).describe('Check the mailbox') },
  errors: ['weak_password', 'rate_limited'],
});

export const loginSchema = op({
  summary: 'Sign in with email and password',
  description:
    'With a `DPoP` proof header the tokens are bound to its key (`token_type: DPoP`). `transport: cookie` sets the session cookies instead and is held to the Origin check (login CSRF). With a second factor enrolled the answer is `mfa_required`.',
  tags: ['login'],
  body: LoginBody,
  response: { 200: z.union([TokenResponse, MfaRequiredResponse, CookieSessionResponse]).describe('Signed in, or a second factor is required') },
  errors: ['invalid_credentials', 'password_reset_required', 'approval_required', 'email_unverified', 'csrf_failed', ...SIGN_IN_ERRORS],
});

export const approveSchema = op({
  summary: 'Approve a sign-in from a new address with the link mailed to the owner',
  description:
    'Once an account\'s daily failure cap has tripped, a correct password from an address it never signed in from answers 403 `approval_required` (or the MFA step) and mails the owner a single-use link; this call redeems it, and that address may then sign in.',
  tags: ['login'],
  body: z.strictObject({ token: z.string().min(1).max(512).describe('the token of the mailed link') }),
  response: { 204: NoContent('The address may sign in now') },
  errors: ['invalid_grant', 'rate_limited'],
});

export const tokenSchema = op({
  summary: 'Token endpoint: refresh, authorization code, client credentials',
  description:
    'As JSON or `application/x-www-form-urlencoded` (RFC 6749). `grant_type=refresh_token`: without `refresh_token` the refresh cookie is used, and then the `X-CSRF-Token` header is required; a refresh token presented twice revokes its session (`refresh_token_reused`), except a same-client replay within the grace window, which gets the same successor. OAuth clients authenticate with `client_secret_basic`, `client_secret_post` or `none` (public clients) and use `authorization_code` (PKCE S256), `client_credentials` (service clients) and `refresh_token` (sessions granted `offline_access`); their errors carry RFC 6749 `error` and `error_description` and are sent as `application/json`.',
  tags: ['login'],
  consumes: ['application/json', 'application/x-www-form-urlencoded'],
  security: TOKEN_SECURITY,
  body: TokenBody,
  response: { 200: z.union([TokenResponse, CookieSessionResponse, OAuthTokenResponse]).describe('Signed in, or an OAuth client\'s tokens') },
  errors: ['unsupported_grant_type', 'invalid_grant', 'invalid_client', 'unauthorized_client', 'invalid_scope', 'invalid_target', 'refresh_token_reused', 'csrf_failed', ...SIGN_IN_ERRORS],
});

export const logoutSchema = op({
  summary: 'Sign out: revoke this session and clear the cookies',
  tags: ['login'],
  security: USER_WRITE,
  response: { 204: NoContent('Signed out') },
  errors: AUTH_WRITE_ERRORS,
});
