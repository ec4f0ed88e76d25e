/**
 * Registered OAuth/OIDC clients: validation of what an operator registers, and client authentication at
 * the token endpoint (client_secret_basic, client_secret_post, none for public clients).
 */
import { randomBytes } from 'node:crypto';
import { randomId, safeEqual, sha256 } from '../crypto.js';
import { TesseraError } from '../errors.js';
import type { OAuthClientRow, OAuthClientType } from '../../store/ports/oauth.js';

/** A registration the rules refuse; its message names what is wrong, for the operator (CLI, admin API). */
export class RegistrationError extends TypeError {
  override name = 'RegistrationError';
}

export const CLIENT_TYPES: readonly OAuthClientType[] = ['web', 'spa', 'native', 'service', 'resource'];
export const SUPPORTED_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;
const PUBLIC_TYPES: ReadonlySet<OAuthClientType> = new Set(['spa', 'native']);

export const isPublicClient = (c: Pick<OAuthClientRow, 'type'>): boolean => PUBLIC_TYPES.has(c.type);

export interface NewClientInput {
  name: string;
  type: OAuthClientType;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  backchannelLogoutUri?: string | undefined;
  firstParty: boolean;
  scope?: string | undefined;
  audience?: string | undefined;
}

/**
 * An absolute URI without fragment. Registration is by the operator only, so loopback and private hosts are
 * allowed (everything runs on one machine in development); plain http is allowed for them too.
 */
function absoluteUri(value: string, what: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new RegistrationError(`${what} "${value}" is not an absolute URI`);
  }
  if (u.hash !== '' || value.includes('#')) throw new RegistrationError(`${what} "${value}" must not have a fragment`);
  if (u.protocol === 'javascript:' || u.protocol === 'data:' || u.protocol === 'file:') throw new RegistrationError(`${what} "${value}" has a forbidden scheme`);
  return value;
}

/** Validates a registration; throws TypeError (operator misuse) naming what is wrong. */
export function validateClient(input: NewClientInput): void {
  if (!CLIENT_TYPES.includes(input.type)) throw new RegistrationError(`--type must be one of ${CLIENT_TYPES.join(', ')}`);
  for (const u of input.redirectUris) absoluteUri(u, 'redirect URI');
  for (const u of input.postLogoutRedirectUris) absoluteUri(u, 'post-logout redirect URI');
  if (input.backchannelLogoutUri !== undefined) absoluteUri(input.backchannelLogoutUri, 'back-channel logout URI');
  if (input.audience !== undefined) {
    if (input.type !== 'resource') throw new RegistrationError('--audience is for resource servers (--type resource)');
    absoluteUri(input.audience, 'audience');
  }
  const interactive = input.type === 'web' || input.type === 'spa' || input.type === 'native';
  if (interactive && input.redirectUris.length === 0) throw new RegistrationError(`a ${input.type} client needs at least one --redirect-uri`);
  if (!interactive && input.redirectUris.length > 0) throw new RegistrationError(`a ${input.type} client has no redirect URIs`);
  for (const s of scopesOf(input.scope ?? '')) {
    if (!/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s)) throw new RegistrationError(`scope "${s}" has characters RFC 6749 §3.3 forbids`);
  }
}

export function scopesOf(scope: string): string[] {
  return [...new Set(scope.split(' ').filter((s) => s.length > 0))];
}

/** A new client row and its secret (shown once; only its hash is stored). Public clients get none. */
export function newClient(input: NewClientInput, now: number): { row: OAuthClientRow; secret: string | undefined } {
  validateClient(input);
  const secret = PUBLIC_TYPES.has(input.type) ? undefined : randomBytes(32).toString('base64url');
  const prefix = input.type === 'resource' ? 'rs' : input.type === 'service' ? 'svc' : 'app';
  const interactive = input.type !== 'service' && input.type !== 'resource';
  return {
    row: {
      id: `${prefix}_${randomId()}`,
      name: input.name,
      type: input.type,
      secretHash: secret === undefined ? null : sha256(secret),
      redirectUris: input.redirectUris,
      postLogoutRedirectUris: input.postLogoutRedirectUris,
      backchannelLogoutUri: input.backchannelLogoutUri ?? null,
      firstParty: input.firstParty,
      scopes: input.scope !== undefined ? scopesOf(input.scope) : interactive ? [...SUPPORTED_SCOPES] : [],
      audience: input.audience ?? null,
      createdAt: now,
    },
    secret,
  };
}

export interface PresentedClientAuth {
  /** from HTTP Basic (client_secret_basic) */
  basic?: { id: string; secret: string } | undefined;
  /** from the body (client_secret_post, or `none` with only client_id) */
  bodyId?: string | undefined;
  bodySecret?: string | undefined;
}

export function parseBasic(header: string | undefined): { id: string; secret: string } | undefined {
  const m = header ? /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header) : null;
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  try {
    // RFC 6749 §2.3.1: both halves are form-urlencoded before base64
    return { id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')), secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')) };
  } catch {
    return undefined;
  }
}

const BASIC_CHALLENGE = { 'WWW-Authenticate': 'Basic realm="tessera"' };

/**
 * Authenticates the client of a token request. A confidential client must prove its secret (one method
 * only, RFC 6749 §2.3); a public client is identified by client_id alone and must then use PKCE, which the
 * code exchange enforces. The secret comparison runs even for an unknown id, so timing reveals no ids.
 */
export async function authenticateClient(lookup: (id: string) => Promise<OAuthClientRow | undefined>, p: PresentedClientAuth): Promise<OAuthClientRow> {
  if (p.basic && (p.bodySecret !== undefined || (p.bodyId !== undefined && p.bodyId !== p.basic.id))) {
    throw new TesseraError('invalid_request', { detail: 'Use one client authentication method.' });
  }
  const id = p.basic?.id ?? p.bodyId;
  const secret = p.basic?.secret ?? p.bodySecret;
  if (id === undefined) throw new TesseraError('invalid_client', { headers: BASIC_CHALLENGE, reason: 'no client id' });
  const client = await lookup(id);
  if (secret === undefined) {
    if (client && isPublicClient(client)) return client;
    throw new TesseraError('invalid_client', { headers: BASIC_CHALLENGE, reason: client ? 'confidential client without secret' : 'unknown client' });
  }
  const ok = safeEqual(client?.secretHash ?? sha256('no such client'), sha256(secret));
  if (!client || client.secretHash === null || !ok) throw new TesseraError('invalid_client', { headers: BASIC_CHALLENGE, reason: 'bad client secret' });
  return client;
}
