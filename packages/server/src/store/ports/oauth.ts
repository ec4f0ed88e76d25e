/**
 * Storage port of the OpenID Connect provider: registered clients, authorization codes, remembered
 * consents, which client holds which session, the ID-token signing keys and the back-channel logout queue.
 * All times are epoch milliseconds. Implementation: store/sql/oauth.ts.
 */

export type OAuthClientType = 'web' | 'spa' | 'native' | 'service' | 'resource';

export interface OAuthClientRow {
  id: string;
  name: string;
  type: OAuthClientType;
  /** SHA-256 of the secret; null for public clients (spa, native) */
  secretHash: string | null;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  backchannelLogoutUri: string | null;
  firstParty: boolean;
  /** scopes the client may be granted */
  scopes: string[];
  /** RFC 8707 audience URI of a resource server */
  audience: string | null;
  createdAt: number;
}

export interface AuthCodeRow {
  id: string;
  secretHash: string;
  clientId: string;
  userId: string;
  redirectUri: string;
  codeChallenge: string;
  nonce: string | null;
  scope: string;
  resource: string | null;
  authTime: number;
  amr: string[];
  /** the user's own request (the browser at /oauth/authorize): what the risk rules compare */
  ip: string;
  userAgent: string | null;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  /** the session the exchange created, so a replayed code can revoke it */
  sessionId: string | null;
}

export interface ConsentRow {
  userId: string;
  clientId: string;
  /** space-separated scopes granted */
  scope: string;
  createdAt: number;
}

export interface OAuthSessionRow {
  sessionId: string;
  clientId: string;
  userId: string;
  scope: string;
  resource: string | null;
  createdAt: number;
}

export type IdKeyState = 'next' | 'current' | 'previous' | 'retired';

export interface IdTokenKeyRow {
  kid: string;
  alg: 'RS256';
  publicJwk: string;
  /** SecretBox-sealed private JWK, the kid as associated data */
  privateSealed: string;
  state: IdKeyState;
  createdAt: number;
}

export interface LogoutDeliveryRow {
  id: string;
  clientId: string;
  sessionId: string;
  userId: string;
  uri: string;
  attempts: number;
  nextAttemptAt: number;
  deliveredAt: number | null;
  /** gave up after the last retry */
  failedAt: number | null;
  createdAt: number;
}

export interface OAuthStore {
  createOAuthClient(row: OAuthClientRow): Promise<void>;
  getOAuthClient(id: string): Promise<OAuthClientRow | undefined>;
  listOAuthClients(): Promise<OAuthClientRow[]>;
  /** the registered resource server whose audience URI this is */
  getOAuthClientByAudience(audience: string): Promise<OAuthClientRow | undefined>;
  deleteOAuthClient(id: string): Promise<boolean>;

  insertCode(row: AuthCodeRow): Promise<void>;
  getCode(id: string): Promise<AuthCodeRow | undefined>;
  /** Consume once: a guarded UPDATE … WHERE used_at IS NULL; the consumed row only for the one caller that won. */
  consumeCode(id: string, now: number): Promise<AuthCodeRow | undefined>;
  /** Record once which session a code led to (or the replay marker): guarded on session_id IS NULL. */
  setCodeSession(id: string, sessionId: string): Promise<boolean>;

  /** Insert or widen the remembered consent of a user for a client. */
  putConsent(row: ConsentRow): Promise<void>;
  getConsent(userId: string, clientId: string): Promise<ConsentRow | undefined>;
  listConsents(userId: string): Promise<ConsentRow[]>;
  deleteConsent(userId: string, clientId: string): Promise<boolean>;

  insertOAuthSession(row: OAuthSessionRow): Promise<void>;
  getOAuthSession(sessionId: string): Promise<OAuthSessionRow | undefined>;
  listOAuthSessionsOfUser(userId: string): Promise<OAuthSessionRow[]>;

  listIdKeys(): Promise<IdTokenKeyRow[]>;
  /** next → current → previous → retired and insert `next`, in one transaction no other rotation overlaps */
  rotateIdKeys(next: IdTokenKeyRow): Promise<void>;
  /**
   * The first start's rotation: rotates as rotateIdKeys, but only while `current` or `next` is missing, checked
   * inside the rotation's lock; false when the keys were complete already (another node created them).
   */
  completeIdKeys(next: IdTokenKeyRow): Promise<boolean>;

  /** Enqueue a logout token delivery; a second enqueue of the same session and client is ignored. */
  enqueueLogout(row: LogoutDeliveryRow): Promise<void>;
  dueLogouts(now: number, limit: number): Promise<LogoutDeliveryRow[]>;
  /** Claim a due delivery for one attempt: a guarded UPDATE on (attempts, next_attempt_at); true when won. */
  claimLogout(id: string, attempts: number, nextAttemptAt: number, leaseUntil: number): Promise<boolean>;
  finishLogout(id: string, outcome: { deliveredAt?: number; failedAt?: number; nextAttemptAt?: number }): Promise<void>;
  listLogouts(sessionId: string): Promise<LogoutDeliveryRow[]>;

  /** The back-channel dispatcher's position in the revocation feed (shared by every node). */
  getFeedCursor(): Promise<number | undefined>;
  /** Advance the cursor only forward (guarded); true when this call moved it. */
  advanceFeedCursor(from: number | undefined, to: number): Promise<boolean>;
}
