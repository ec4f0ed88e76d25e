import { csrfHeaders, csrfToken } from './csrf.js';
import { Prover } from './dpop.js';
import { SessionKeeper, expiresInOf, type SessionOptions } from './session.js';
import { headersFor, refusalCode, sendJson } from './transport.js';
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
  /**
   * Before a sign-in by another path (a passkey alone): a new key for the new session. signIn does this
   * itself; an MFA step keeps the key of its password step.
   */
  beginSignIn(): Promise<void>;
  /** A page fetched in place (pages.js) brings a new `<meta>` nonce and server time. */
  adoptPage(doc: Document): void;
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
  const prover = new Prover();
  const sources: HeaderSource[] = [csrfHeaders, prover.headers, ...(options.headers ?? [])];
  // A proof refused for its nonce (or an `ath` another tab's refresh just changed) is signed again once.
  const send = async (method: string, path: string, body?: unknown) => {
    const res = await sendJson(sources, method, path, body, prover.observe);
    return Prover.retryable(res) ? sendJson(sources, method, path, body, prover.observe) : res;
  };
  const keeper = new SessionKeeper(() => send('POST', '/v1/token', { grant_type: 'refresh_token' }), options);
  keeper.onSignedOut(() => void prover.ended());

  const api = async <T>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> => {
    const used = csrfToken();
    const res = await send(method, path, body);
    // Only an expired or unknown access token is worth a refresh; a wrong MFA code (also 401) is not retried.
    const code = typeof res.body === 'object' && res.body !== null ? (res.body as { code?: unknown }).code : undefined;
    if (res.status !== 401 || code !== 'invalid_token' || path === '/v1/token' || used === undefined) return res as ApiResponse<T>;
    if (!(await keeper.refresh(used))) return res as ApiResponse<T>;
    return (await send(method, path, body)) as ApiResponse<T>;
  };

  const tesseraFetch = fetchWith(sources, prover, keeper);

  const signIn = async (credentials: { email: string; password: string }): Promise<SignInResult> => {
    await prover.newSession();
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
      await prover.ended();
      return res;
    },
    beginSignIn: () => prover.newSession(),
    adoptPage(doc) {
      const meta = doc.querySelector('meta[name="tessera-dpop-nonce"]');
      if (meta) prover.fromMeta(meta);
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

/** The `fetch` wrapper: CSRF header and DPoP proof, one new proof on a nonce refusal, one refresh on an expired token. */
function fetchWith(sources: HeaderSource[], prover: Prover, keeper: SessionKeeper): (input: string | URL, init?: RequestInit) => Promise<Response> {
  return async (input: string | URL, init: RequestInit = {}): Promise<Response> => {
    const method = (init.method ?? 'GET').toUpperCase();
    const url = String(input);
    const attempt = async () => {
      const res = await fetch(input, { credentials: 'same-origin', ...init, method, headers: await headersFor(sources, method, url, init.headers) });
      prover.observe(res);
      return res;
    };
    const used = csrfToken();
    let res = await attempt();
    // A stream body cannot be sent twice; everything else is retried once with a new proof, once after a refresh.
    if (init.body instanceof ReadableStream) return res;
    let code = await refusalCode(res);
    if (code === 'use_dpop_nonce' || code === 'invalid_dpop_proof') {
      res = await attempt();
      code = await refusalCode(res);
    }
    if (used === undefined || code !== 'invalid_token') return res;
    return (await keeper.refresh(used)) ? attempt() : res;
  };
}
