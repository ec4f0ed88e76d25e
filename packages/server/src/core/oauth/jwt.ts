/**
 * The tokens the provider signs: RFC 9068 access tokens for OAuth clients (the same profile and key as
 * first-party ones, with `aud` the requested resource and `client_id`), OIDC ID tokens and Back-Channel
 * Logout tokens (RS256 under the ID-token keys).
 */
import { createHash } from 'node:crypto';
import * as jose from 'jose';
import type { Clock } from '../../lib/clock.js';
import { randomId } from '../crypto.js';
import type { KeyManager } from '../keys.js';
import type { IdTokenKeys } from './id-token-keys.js';

export const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

export interface OAuthAccessInput {
  sub: string;
  sid?: string | undefined;
  clientId: string;
  audience: string;
  scope: string;
  authTime?: number | undefined;
  amr?: string[] | undefined;
  roles: string[];
  jkt?: string | undefined;
}

export interface IdTokenInput {
  sub: string;
  clientId: string;
  sid: string;
  authTime: number;
  amr: string[];
  nonce: string | null;
  accessToken: string;
  email?: { email: string; emailVerified: boolean } | undefined;
}

/** OIDC Core §3.1.3.6: the left half of the SHA-256 of the access token, base64url. */
export function atHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest().subarray(0, 16).toString('base64url');
}

/** `acr`: whether the sign-in used a second factor (RFC 8176 `mfa` or any method beside the password). */
export function acrOf(amr: string[]): string {
  return amr.includes('mfa') || amr.some((m) => m !== 'pwd') ? 'urn:tessera:acr:mfa' : 'urn:tessera:acr:password';
}
export const ACR_VALUES = ['urn:tessera:acr:password', 'urn:tessera:acr:mfa'];

export class OAuthJwts {
  constructor(
    private readonly keys: KeyManager,
    private readonly idKeys: IdTokenKeys,
    private readonly clock: Clock,
    private readonly cfg: { issuer: string; accessTtlSec: number; idTokenTtlSec: number },
  ) {}

  private now(): number {
    return Math.floor(this.clock.now() / 1000);
  }

  async accessToken(input: OAuthAccessInput): Promise<{ token: string; expiresIn: number }> {
    const { kid, alg, key } = this.keys.signingKey();
    const iat = this.now();
    const claims: jose.JWTPayload = {
      iss: this.cfg.issuer,
      sub: input.sub,
      aud: input.audience,
      exp: iat + this.cfg.accessTtlSec,
      iat,
      jti: randomId(),
      client_id: input.clientId,
      ...(input.sid !== undefined ? { sid: input.sid } : {}),
      ...(input.authTime !== undefined ? { auth_time: Math.floor(input.authTime / 1000) } : {}),
      ...(input.amr !== undefined ? { amr: input.amr } : {}),
      roles: input.roles,
      ...(input.scope !== '' ? { scope: input.scope } : {}),
      ...(input.jkt !== undefined ? { cnf: { jkt: input.jkt } } : {}),
    };
    const token = await new jose.SignJWT(claims).setProtectedHeader({ alg, typ: 'at+jwt', kid }).sign(key);
    return { token, expiresIn: this.cfg.accessTtlSec };
  }

  async idToken(input: IdTokenInput): Promise<string> {
    const { kid, key } = this.idKeys.signingKey();
    const iat = this.now();
    const claims: jose.JWTPayload = {
      iss: this.cfg.issuer,
      sub: input.sub,
      aud: input.clientId,
      azp: input.clientId,
      exp: iat + this.cfg.idTokenTtlSec,
      iat,
      auth_time: Math.floor(input.authTime / 1000),
      ...(input.nonce !== null ? { nonce: input.nonce } : {}),
      acr: acrOf(input.amr),
      amr: input.amr,
      sid: input.sid,
      at_hash: atHash(input.accessToken),
      ...(input.email ? { email: input.email.email, email_verified: input.email.emailVerified } : {}),
    };
    return new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(key);
  }

  /** Back-Channel Logout 1.0 §2.4: `events`, `sid`, `sub`, never a `nonce` (so it can't pass as an ID token). */
  async logoutToken(input: { sub: string; sid: string; clientId: string }): Promise<string> {
    const { kid, key } = this.idKeys.signingKey();
    const iat = this.now();
    return new jose.SignJWT({ iss: this.cfg.issuer, aud: input.clientId, iat, exp: iat + 120, jti: randomId(), sid: input.sid, sub: input.sub, events: { [BACKCHANNEL_EVENT]: {} } })
      .setProtectedHeader({ alg: 'RS256', typ: 'logout+jwt', kid })
      .sign(key);
  }

  /** An ID token this provider issued (signature, issuer; expiry ignored, as RP-Initiated Logout allows). */
  async verifyIdTokenHint(token: string): Promise<{ sub: string; sid: string | undefined; aud: string } | undefined> {
    if (token.length > 8192) return undefined;
    try {
      const { payload } = await jose.jwtVerify(token, this.idKeys.getVerificationKey, {
        issuer: this.cfg.issuer,
        algorithms: ['RS256'],
        typ: 'JWT',
        currentDate: new Date(0),
      });
      const aud = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud;
      if (typeof payload.sub !== 'string' || typeof aud !== 'string' || payload.events !== undefined) return undefined;
      return { sub: payload.sub, sid: typeof payload.sid === 'string' ? payload.sid : undefined, aud };
    } catch {
      return undefined;
    }
  }
}
