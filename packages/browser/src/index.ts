/**
 * @tessera/browser: the browser side of Tessera's cookie transport.
 *
 *   import { signIn, api, start, onSignedOut } from '@tessera/browser';
 *   await signIn({ email, password });    // { status: 'signed-in' | 'mfa-required' | 'refused', … }
 *   start({ expiresIn: 300 });            // on a page loaded signed in: seconds left on the access cookie
 *   const r = await api('GET', '/v1/me'); // { status, ok, body }, body parsed JSON or null
 *
 * The access and refresh tokens live only in httpOnly cookies set by the server: this module never sees a
 * token and never writes one anywhere (no localStorage, sessionStorage or readable cookie). It copies the
 * readable CSRF cookie into the X-CSRF-Token header of unsafe requests, and coordinates silent refresh
 * across the tabs of the origin. Where WebCrypto and IndexedDB are available in a secure context, every
 * sign-in makes a new non-extractable ES256 key (kept in IndexedDB as a CryptoKey, never as bytes) and every
 * same-origin request carries a DPoP proof from it: the server binds the session to that key, so cookies
 * copied out of this browser are useless without it. The functions below share one client per page; `createClient` makes
 * another with its own options.
 */
import { createClient, type TesseraClient } from './client.js';
import type { ApiResponse, SignInResult } from './types.js';

export { createClient } from './client.js';
export type { ClientOptions, TesseraClient } from './client.js';
export { CSRF_COOKIES, CSRF_HEADER, csrfToken } from './csrf.js';
export type { ApiResponse, HeaderSource, HttpMethod, Problem, SignInResult } from './types.js';

let shared: TesseraClient | undefined;
// Created on first use, so importing the module alone registers no listener and opens no channel.
const client = (): TesseraClient => (shared ??= createClient());

export const api = <T = unknown>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> => client().api<T>(method, path, body);
export const tesseraFetch = (input: string | URL, init?: RequestInit): Promise<Response> => client().fetch(input, init);
export const signIn = (credentials: { email: string; password: string }): Promise<SignInResult> => client().signIn(credentials);
export const signOut = (): Promise<ApiResponse> => client().signOut();
export const start = (options: { expiresIn: number }): void => client().start(options);
export const signedIn = (options: { expiresIn: number }): void => client().signedIn(options);
export const refresh = (seen?: string): Promise<boolean> => client().refresh(seen);
export const onSignedOut = (fn: () => void): (() => void) => client().onSignedOut(fn);
export const beginSignIn = (): Promise<void> => client().beginSignIn();
export const adoptPage = (doc: Document): void => client().adoptPage(doc);
export { ATH_COOKIES } from './dpop.js';
