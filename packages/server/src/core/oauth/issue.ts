import type { UserRow } from '../../store/ports/index.js';
import type { OAuthClientRow } from '../../store/ports/oauth.js';
import { emailClaims } from './claims.js';
import type { OAuthDeps } from './deps.js';

export interface OAuthTokenResponse {
  access_token: string;
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  scope: string;
  id_token?: string;
  refresh_token?: string;
}

export interface IssueInput {
  user: UserRow;
  client: OAuthClientRow;
  sessionId: string;
  scope: string[];
  resource: string | null;
  authTime: number;
  amr: string[];
  nonce: string | null;
  jkt: string | undefined;
  refreshToken: string | undefined;
}

/** The token response of a code exchange or a refresh: access token, ID token with `openid`, refresh token with `offline_access`. */
export async function issueOAuthTokens(d: OAuthDeps, i: IssueInput): Promise<OAuthTokenResponse> {
  const scope = i.scope.join(' ');
  const access = await d.jwts.accessToken({
    sub: i.user.id,
    sid: i.sessionId,
    clientId: i.client.id,
    audience: i.resource ?? d.defaultAudience,
    scope,
    authTime: i.authTime,
    amr: i.amr,
    roles: i.user.isAdmin ? ['admin'] : [],
    jkt: i.jkt,
  });
  const idToken = i.scope.includes('openid')
    ? await d.jwts.idToken({
        sub: i.user.id,
        clientId: i.client.id,
        sid: i.sessionId,
        authTime: i.authTime,
        amr: i.amr,
        nonce: i.nonce,
        accessToken: access.token,
        ...(i.scope.includes('email') ? { email: { email: i.user.email, emailVerified: emailClaims(i.user).email_verified } } : {}),
      })
    : undefined;
  return {
    access_token: access.token,
    token_type: i.jkt !== undefined ? 'DPoP' : 'Bearer',
    expires_in: access.expiresIn,
    scope,
    ...(idToken !== undefined ? { id_token: idToken } : {}),
    ...(i.refreshToken !== undefined ? { refresh_token: i.refreshToken } : {}),
  };
}
