/**
 * The authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636, RFC 8707) checked in order,
 * each step naming what it stops. Until client and redirect URI are known good, every failure is an error
 * page (never a redirect: an unregistered URI would make us an open redirector or leak the code); after
 * that, failures go back to the client's redirect URI as RFC 6749 §4.1.2.1 says.
 */
import type { OAuthClientRow } from '../../store/ports/oauth.js';
import { scopesOf } from './clients.js';

export type Params = Record<string, string | string[] | undefined>;

export interface AuthorizationRequest {
  client: OAuthClientRow;
  redirectUri: string;
  state: string | undefined;
  nonce: string | null;
  scope: string[];
  codeChallenge: string;
  prompt: Set<'none' | 'login' | 'consent'>;
  maxAge: number | undefined;
  loginHint: string | undefined;
  resource: string | null;
  /** epoch ms: a sign-in at or after this satisfies prompt=login / max_age (set on the way back from /sign-in) */
  loginAfter: number | undefined;
}

export type AuthorizeCheck =
  | { kind: 'ok'; request: AuthorizationRequest }
  | { kind: 'page'; reason: string }
  | { kind: 'redirect'; redirectUri: string; state: string | undefined; error: string; description: string };

/** The query parameter we add when sending the user to sign in, so the fresh sign-in is recognised. */
export const LOGIN_AFTER_PARAM = 'tessera_login_after';

function single(params: Params, name: string): string | undefined | null {
  // null: repeated (the caller refuses it); undefined: absent or empty
  const v = params[name];
  if (Array.isArray(v)) return null; // RFC 6749 §3.1: parameters must not be included more than once
  return v === undefined || v === '' ? undefined : v;
}

export interface AuthorizeDeps {
  getClient(id: string): Promise<OAuthClientRow | undefined>;
  isAudience(uri: string): Promise<boolean>;
}

// One function on purpose (a little over 60 lines): the checks read top to bottom in the order they apply,
// and the line where failures stop being error pages and start being redirects stays visible.
export async function checkAuthorizationRequest(params: Params, deps: AuthorizeDeps): Promise<AuthorizeCheck> {
  const clientId = single(params, 'client_id');
  if (!clientId || clientId.length > 200) return { kind: 'page', reason: 'missing or repeated client_id' };
  const client = await deps.getClient(clientId);
  // Only clients that sign users in have an authorization endpoint: service and resource clients do not.
  if (!client || client.type === 'service' || client.type === 'resource') return { kind: 'page', reason: 'unknown client' };
  const redirectUri = single(params, 'redirect_uri');
  // Exact string match (RFC 9700 §2.1): no prefix, path, case or query variations, so no code goes elsewhere.
  if (!redirectUri || !client.redirectUris.includes(redirectUri)) return { kind: 'page', reason: 'redirect_uri not registered' };

  const state = single(params, 'state');
  const fail = (error: string, description: string): AuthorizeCheck => ({ kind: 'redirect', redirectUri, state: state ?? undefined, error, description });
  if (state === null) return fail('invalid_request', 'state is repeated');
  if (state !== undefined && state.length > 1024) return fail('invalid_request', 'state is too long');
  for (const name of ['response_type', 'scope', 'nonce', 'prompt', 'max_age', 'login_hint', 'code_challenge', 'code_challenge_method', 'resource', LOGIN_AFTER_PARAM]) {
    if (single(params, name) === null) return fail('invalid_request', `${name} is repeated`);
  }
  const value = (name: string): string | undefined => single(params, name) ?? undefined;
  if (params.request !== undefined) return fail('request_not_supported', 'request objects are not supported');
  if (params.request_uri !== undefined) return fail('request_uri_not_supported', 'request_uri is not supported');
  // Only the code flow: no token in a URL (RFC 9700 §2.1.2 rules out the implicit flow).
  if (value('response_type') !== 'code') return fail('unsupported_response_type', 'only response_type=code is supported');
  const responseMode = value('response_mode');
  if (responseMode !== undefined && responseMode !== 'query') return fail('invalid_request', 'only response_mode=query is supported');

  // PKCE S256 for every client, confidential ones too (RFC 9700 §2.1.1): a stolen or injected code is useless.
  const challenge = value('code_challenge');
  const method = value('code_challenge_method');
  if (!challenge) return fail('invalid_request', 'code_challenge is required (PKCE)');
  if (method !== 'S256') return fail('invalid_request', 'code_challenge_method must be S256');
  if (!/^[A-Za-z0-9_-]{43}$/.test(challenge)) return fail('invalid_request', 'code_challenge is not a S256 challenge');

  const prompt = new Set(scopesOf(value('prompt') ?? ''));
  for (const p of prompt) if (p !== 'none' && p !== 'login' && p !== 'consent') return fail('invalid_request', `prompt=${p} is not supported`);
  if (prompt.has('none') && prompt.size > 1) return fail('invalid_request', 'prompt=none cannot be combined');

  const maxAgeText = value('max_age');
  if (maxAgeText !== undefined && !/^\d{1,9}$/.test(maxAgeText)) return fail('invalid_request', 'max_age must be a number of seconds');
  const nonce = value('nonce');
  if (nonce !== undefined && nonce.length > 512) return fail('invalid_request', 'nonce is too long');
  const loginHint = value('login_hint');

  // RFC 8707: the access token is for one registered resource server, so another API refuses it.
  const resource = value('resource');
  if (resource !== undefined && !(await deps.isAudience(resource))) return fail('invalid_target', 'resource is not a registered audience');

  // A scope the client may not have is simply not granted (RFC 6749 §3.3); the token response says which were.
  const scope = scopesOf(value('scope') ?? '').filter((s) => client.scopes.includes(s));
  const loginAfterText = value(LOGIN_AFTER_PARAM);
  return {
    kind: 'ok',
    request: {
      client,
      redirectUri,
      state,
      nonce: nonce ?? null,
      scope,
      codeChallenge: challenge,
      prompt: prompt as Set<'none' | 'login' | 'consent'>,
      maxAge: maxAgeText !== undefined ? Number(maxAgeText) : undefined,
      loginHint: loginHint?.slice(0, 320),
      resource: resource ?? null,
      loginAfter: loginAfterText !== undefined && /^\d{1,15}$/.test(loginAfterText) ? Number(loginAfterText) : undefined,
    },
  };
}

/** The redirect back to the client with an error or a code, always with `iss` (RFC 9207: no mix-up). */
export function responseUrl(redirectUri: string, issuer: string, params: Record<string, string | undefined>): string {
  const u = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  u.searchParams.set('iss', issuer);
  return u.toString();
}
