import { createHmac } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { cookieNamesFor } from '@tessera/sdk/edge';
import { randomToken, safeEqual } from '../core/crypto.js';

export interface CookieNames {
  access: string;
  refresh: string;
  csrf: string;
  /** readable: the `ath` (token hash) a key-bound browser session's proofs carry; set only for those */
  ath: string;
}

/**
 * `__Host-` cookies are pinned to this host and path `/` with Secure, so a sibling subdomain cannot plant or
 * overwrite them; `__Secure-` for the refresh cookie, which is scoped to /v1/token so it travels nowhere else.
 * Browsers refuse those prefixes without Secure, so plain-http development (TESSERA_COOKIE_SECURE=false)
 * uses unprefixed names.
 */
export function cookieNames(secure: boolean): CookieNames {
  // The access and CSRF cookies are the SDK's (one policy for every resource server); the refresh cookie is ours.
  return { ...cookieNamesFor(secure), refresh: secure ? '__Secure-tessera_rt' : 'tessera_rt', ath: secure ? '__Host-tessera_dpop' : 'tessera_dpop' };
}

export const REFRESH_COOKIE_PATH = '/v1/token';

/**
 * CSRF double-submit token signed and bound to the session: `nonce.HMAC(key, sid.nonce)`. An attacker who
 * can plant the same value in the cookie and the header (a sibling subdomain, a cookie-tossing bug) still
 * cannot mint one that verifies for the victim's session.
 */
export class CsrfTokens {
  constructor(private readonly key: Buffer) {}
  issue(sid: string): string {
    const nonce = randomToken(16);
    return `${nonce}.${this.mac(sid, nonce)}`;
  }
  verify(sid: string, value: string): boolean {
    const dot = value.indexOf('.');
    if (dot <= 0) return false;
    return safeEqual(this.mac(sid, value.slice(0, dot)), value.slice(dot + 1));
  }
  private mac(sid: string, nonce: string): string {
    return createHmac('sha256', this.key).update(`csrf:${sid}.${nonce}`).digest('base64url');
  }
}

export interface SessionCookies {
  accessToken: string;
  accessTtlSec: number;
  refreshToken: string;
  refreshTtlSec: number;
  csrf: string;
  /** base64url(SHA-256(access token)) of a key-bound session, else undefined */
  ath: string | undefined;
}

export function setSessionCookies(reply: FastifyReply, names: CookieNames, secure: boolean, c: SessionCookies): void {
  void reply.setCookie(names.access, c.accessToken, { httpOnly: true, secure, sameSite: 'lax', path: '/', maxAge: c.accessTtlSec });
  void reply.setCookie(names.refresh, c.refreshToken, { httpOnly: true, secure, sameSite: 'strict', path: REFRESH_COOKIE_PATH, maxAge: c.refreshTtlSec });
  // Readable by the page's own script (it must copy it into X-CSRF-Token); it grants nothing by itself.
  void reply.setCookie(names.csrf, c.csrf, { httpOnly: false, secure, sameSite: 'strict', path: '/', maxAge: c.refreshTtlSec });
  // The page cannot read the httpOnly access cookie, yet its DPoP proofs must name that token (`ath`): the
  // hash is readable, and proves nothing by itself (it is not the token, and the key signs the proof).
  if (c.ath !== undefined) void reply.setCookie(names.ath, c.ath, { httpOnly: false, secure, sameSite: 'strict', path: '/', maxAge: c.accessTtlSec });
}

export function clearSessionCookies(reply: FastifyReply, names: CookieNames, secure: boolean): void {
  void reply.clearCookie(names.access, { httpOnly: true, secure, sameSite: 'lax', path: '/' });
  void reply.clearCookie(names.refresh, { httpOnly: true, secure, sameSite: 'strict', path: REFRESH_COOKIE_PATH });
  void reply.clearCookie(names.csrf, { httpOnly: false, secure, sameSite: 'strict', path: '/' });
  void reply.clearCookie(names.ath, { httpOnly: false, secure, sameSite: 'strict', path: '/' });
}
