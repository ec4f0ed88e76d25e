/** Helpers for the OpenID Connect tests: PKCE, a cookie sign-in over HTTP, and the authorization endpoint. */
import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { NewClientInput } from '../../src/core/oauth/clients.js';
import type { Tessera } from '../../src/tessera.js';

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Signs in with the cookie transport and returns the Cookie header a browser would send. */
export async function cookieSignIn(base: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${base}/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password, transport: 'cookie' }) });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
}

export interface AuthorizeResult {
  status: number;
  location: URL | undefined;
  body: string;
  headers: Headers;
}

/** One request to /oauth/authorize (redirects not followed). */
export async function authorize(base: string, params: Record<string, string>, cookie?: string): Promise<AuthorizeResult> {
  const res = await fetch(`${base}/oauth/authorize?${new URLSearchParams(params)}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  const loc = res.headers.get('location');
  return { status: res.status, location: loc ? new URL(loc, base) : undefined, body: await res.text(), headers: res.headers };
}

export async function registerClient(t: Tessera, input: Partial<NewClientInput> & Pick<NewClientInput, 'type'>): Promise<{ id: string; secret: string | undefined }> {
  const c = await t.oauth.createClient({ name: `${input.type} app`, redirectUris: [], postLogoutRedirectUris: [], firstParty: false, ...input });
  return { id: c.clientId, secret: c.secret };
}

export const basicAuth = (id: string, secret: string): string => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

export const claimsOf = (jwt: string): Record<string, unknown> => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
