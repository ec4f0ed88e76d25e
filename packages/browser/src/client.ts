import { csrfHeaders, csrfToken } from './csrf.js';
import { SessionKeeper, expiresInOf, type SessionOptions } from './session.js';
import { headersFor, isExpiredTokenResponse, sendJson } from './transport.js';
import type { ApiResponse, HeaderSource, Problem, SignInResult } from './types.js';

export interface ClientOptions extends SessionOptions {
  /** more header sources after the CSRF one (each request runs them in order) */
  headers?: HeaderSource[];
}

export interface TesseraClient {
  /**
   * Call the Tessera API with the session cookies. On 401 `invalid_token` it refreshes once (coordinated
   * with the other tabs) and retries; if the session is gone it tells the `onSignedOut` listeners.
   * Rejects only on network errors.
   */
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>>;
  /** `fetch` for same-origin calls: adds the CSRF header to unsafe requests, refreshes once on 401 `invalid_token`. */
  fetch(input: string | URL, init?: RequestInit): Promise<Response>;
  /** Password sign-in with the cookie transport; on success the session's silent refresh starts. */
  signIn(credentials: { email: string; password: string }): Promise<SignInResult>;
  /** Sign out this session on the server, and tell the other tabs. */
  signOut(): Promise<ApiResponse>;
  /** Begin silent refresh for a session whose access token has `expiresIn` seconds left (a page's figure). */
  start(options: { expiresIn: number }): void;
  /** A session began in this tab by another path (an MFA step, a passkey): start it and tell the other tabs. */
  signedIn(options: { expiresIn: number }): void;
  /** Rotate the refresh cookie now unless another tab already did (see SessionKeeper.refresh). */
  refresh(seen?: string): Promise<boolean>;
  /** Called when the session ends (signed out here, in another tab, or refused by the server). */
  onSignedOut(fn: () => void): () => void;
  csrfToken(): string | undefined;
}

export function createClient(options: ClientOptions = {}): TesseraClient {
  const sources: HeaderSource[] = [csrfHeaders, ...(options.headers ?? [])];
  const send = (method: string, path: string, body?: unknown) => sendJson(sources, method, path, body);
  const keeper = new SessionKeeper(() => send('POST', '/v1/token', { grant_type: 'refresh_token' }), options);

  const api = async <T>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> => {
    const used = csrfToken();
    const res = await send(method, path, body);
    // Only an expired or unknown access token is worth a refresh; a wrong MFA code (also 401) is not retried.
    const code = typeof res.body === 'object' && res.body !== null ? (res.body as { code?: unknown }).code : undefined;
    if (res.status !== 401 || code !== 'invalid_token' || path === '/v1/token' || used === undefined) return res as ApiResponse<T>;
    if (!(await keeper.refresh(used))) return res as ApiResponse<T>;
    return (await send(method, path, body)) as ApiResponse<T>;
  };

  const tesseraFetch = async (input: string | URL, init: RequestInit = {}): Promise<Response> => {
    const method = (init.method ?? 'GET').toUpperCase();
    const url = String(input);
    const attempt = async () => fetch(input, { credentials: 'same-origin', ...init, method, headers: await headersFor(sources, method, url, init.headers) });
    const used = csrfToken();
    const res = await attempt();
    // A stream body cannot be sent twice; everything else is retried once after a successful refresh.
    const replayable = !(init.body instanceof ReadableStream);
    if (!replayable || used === undefined || !(await isExpiredTokenResponse(res))) return res;
    return (await keeper.refresh(used)) ? attempt() : res;
  };

  const signIn = async (credentials: { email: string; password: string }): Promise<SignInResult> => {
    const response = await send('POST', '/v1/login', { ...credentials, transport: 'cookie' });
    const body = (response.body ?? {}) as { mfa_required?: unknown; mfa_token?: unknown; methods?: unknown };
    if (response.ok && body.mfa_required === true && typeof body.mfa_token === 'string') {
      const methods = Array.isArray(body.methods) ? body.methods.filter((m): m is string => typeof m === 'string') : [];
      return { status: 'mfa-required', mfaToken: body.mfa_token, methods, response };
    }
    if (!response.ok) return { status: 'refused', response: { ...response, body: problemOf(response.body) } };
    const expiresIn = expiresInOf(response.body);
    keeper.signedIn(expiresIn);
    return { status: 'signed-in', expiresIn, response };
  };

  return {
    api,
    fetch: tesseraFetch,
    signIn,
    async signOut() {
      const res = await api('POST', '/v1/logout');
      keeper.signedOut();
      return res;
    },
    start: ({ expiresIn }) => keeper.start(expiresIn),
    signedIn: ({ expiresIn }) => keeper.signedIn(expiresIn),
    refresh: (seen) => (seen === undefined ? keeper.refresh() : keeper.refresh(seen)),
    onSignedOut: (fn) => keeper.onSignedOut(fn),
    csrfToken,
  };
}

/** A refusal's body as the problem+json fields it carries (null when it was not a JSON object). */
function problemOf(body: unknown): Problem | null {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? body : null;
}
