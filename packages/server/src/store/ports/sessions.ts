/** Sessions and their refresh-token families. */
import type { UserRow } from './users.js';

export interface GeoPoint {
  country: string | null;
  city: string | null;
  lat: number | null;
  lon: number | null;
  /** accuracy radius, km; null when the database gives none */
  accuracyKm: number | null;
}

export interface SessionRow {
  id: string;
  userId: string;
  createdAt: number;
  lastSeenAt: number;
  /** absolute expiry */
  expiresAt: number;
  ip: string | null;
  geo: GeoPoint | null;
  userAgent: string | null;
  /** authentication methods references (RFC 8176): pwd, otp, hwk, swk, mfa, … */
  amr: string[];
  authTime: number;
  /** DPoP key thumbprint when the session is sender-constrained */
  dpopJkt: string | null;
  transport: 'bearer' | 'cookie';
  revokedAt: number | null;
  revokeReason: string | null;
}

export interface RefreshTokenRow {
  id: string;
  sessionId: string;
  secretHash: string;
  parentId: string | null;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  /** who rotated it: DPoP jkt, or hash of user agent + IP; decides the grace window */
  usedBy: string | null;
  successorId: string | null;
  /** successor pair sealed with the KEK, only for the grace window */
  successorSealed: string | null;
}

export interface SessionPatch {
  lastSeenAt: number;
  ip: string | null;
  geo: GeoPoint | null;
  userAgent: string | null;
}

export interface RotateRefreshArgs {
  id: string;
  usedAt: number;
  usedBy: string;
  successor: RefreshTokenRow;
  successorSealed: string | null;
  /** the session's last use, written in the same transaction when the rotation wins */
  touch?: SessionPatch;
}

/** What a refresh checks, read together: the presented token, its session, the session's user. */
export interface RefreshFamily {
  token: RefreshTokenRow;
  session: SessionRow;
  user: UserRow;
  /** the OAuth client holding the session (code flow); null for a first-party session */
  oauthClientId: string | null;
}

export interface SessionStore {
  createSession(row: SessionRow): Promise<void>;
  getSession(id: string): Promise<SessionRow | undefined>;
  /** live (not revoked, not expired at `now`) sessions of a user, newest first */
  listLiveSessions(userId: string, now: number): Promise<SessionRow[]>;
  /**
   * The live session last seen at or before `now` whose place has coordinates (`geo.lat` and `geo.lon` not
   * null); of several last seen at the same instant, the earliest created (then the smallest id). With
   * liveUserAgents, what a sign-in's risk check reads of the live sessions (core/risk-service.ts onLogin):
   * what the login rules would find in listLiveSessions, without reading it.
   */
  lastLocatedSession(userId: string, now: number): Promise<SessionRow | undefined>;
  /**
   * `[userAgent]` when a live session has exactly that user agent (looked for among the newest first, so
   * the usual answer is quick), else the distinct user agents of all live sessions (null for none)
   */
  liveUserAgents(userId: string, now: number, userAgent: string): Promise<Array<string | null>>;
  touchSession(id: string, patch: SessionPatch): Promise<void>;
  /**
   * Durable-first revocation: revokes the session if it is live at `at` and, in the same transaction,
   * appends the feed row `{ sid: id, sub: null, revokedAt: at, until }`. Returns that row's cursor when
   * this call revoked it, null otherwise (already revoked, expired, unknown). Feed order holds: no reader
   * sees the returned cursor before every smaller cursor has committed.
   */
  revokeSession(id: string, reason: string, at: number, until: number): Promise<number | null>;
  /**
   * The same for every live session of a user except `exceptId`, one feed row each, all in one
   * transaction; returns the revoked session ids with their feed cursors, in cursor order.
   */
  revokeUserSessions(userId: string, reason: string, at: number, until: number, exceptId?: string): Promise<Array<{ sid: string; cursor: number }>>;

  insertRefreshToken(row: RefreshTokenRow): Promise<void>;
  getRefreshToken(id: string): Promise<RefreshTokenRow | undefined>;
  /** the token `id` with its session, user and OAuth holder in one query; undefined when any of the three is missing */
  getRefreshFamily(id: string): Promise<RefreshFamily | undefined>;
  /** every refresh token of a session's family, oldest first (audit and tests) */
  listRefreshTokens(sessionId: string): Promise<RefreshTokenRow[]>;
  /**
   * Atomic rotation: marks `id` used (only if it is still unused) and inserts `successor`, in one
   * transaction. Returns false, inserting nothing, when `id` was already used: two racing refreshes of one
   * token can never both win.
   */
  rotateRefreshToken(args: RotateRefreshArgs): Promise<boolean>;
}
