import type { GeoPoint } from '../../store/ports/index.js';

/** What the HTTP edge knows about the caller, used for device binding, risk and the audit log. */
export interface RequestContext {
  ip: string;
  userAgent: string | null;
  geo: GeoPoint | null;
  /** RFC 7638 thumbprint of a verified DPoP proof's key, when one was sent */
  dpopJkt?: string | undefined;
}

export interface IssuedTokens {
  accessToken: string;
  tokenType: 'Bearer' | 'DPoP';
  expiresIn: number;
  refreshToken: string;
  sessionId: string;
}

export type Transport = 'bearer' | 'cookie';
