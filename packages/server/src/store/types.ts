/**
 * The storage contract. Every operation that must happen at most once is one atomic statement or
 * transaction here (consume-once, guarded increment), so races are impossible by construction on SQLite and
 * PostgreSQL alike. All times are epoch milliseconds. Implementations: store/kysely-store.ts (one Kysely
 * dialect-neutral implementation over better-sqlite3 or pg). Conformance: packages/server/test/store.test.ts.
 */

export interface UserRow {
  id: string;
  email: string;
  passwordHash: string;
  isAdmin: boolean;
  passwordResetRequired: boolean;
  createdAt: number;
}

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

export type KeyState = 'next' | 'current' | 'previous' | 'retired';

export interface SigningKeyRow {
  kid: string;
  alg: string;
  publicJwk: string; // JSON
  privateSealed: string; // SecretBox-sealed private JWK JSON (or the HS256 secret marker)
  state: KeyState;
  createdAt: number;
}

export interface ClientRow {
  id: string;
  name: string;
  secretHash: string;
  createdAt: number;
}

export interface EventRow {
  id: number;
  userId: string | null;
  sessionId: string | null;
  type: string;
  ip: string | null;
  data: Record<string, unknown>;
  createdAt: number;
}
export type NewEvent = Omit<EventRow, 'id'>;

export interface RevocationRow {
  cursor: number;
  sid: string | null;
  sub: string | null;
  revokedAt: number;
  /** after this time the entry is moot: every token it covers has expired */
  until: number;
}
export type NewRevocation = Omit<RevocationRow, 'cursor'>;

export interface PasswordResetRow {
  id: string;
  userId: string;
  secretHash: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

export interface TotpRow {
  userId: string;
  secretSealed: string;
  confirmedAt: number | null;
  /** last accepted time step; a code for a step ≤ this is a replay */
  lastStep: number | null;
  createdAt: number;
}

export interface WebauthnCredentialRow {
  id: string; // credential id, base64url
  userId: string;
  publicKey: string; // base64url COSE key
  counter: number;
  transports: string[];
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface MfaChallengeRow {
  id: string;
  userId: string | null;
  secretHash: string;
  /** `login_approval`: a mailed approval link past the daily failure cap (core/login/approvals.ts) */
  kind: 'mfa' | 'webauthn_register' | 'webauthn_login' | 'login_approval';
  /** WebAuthn challenge, or a hashed email/SMS OTP */
  challenge: string | null;
  failures: number;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  /** request context of the password step (ip, user agent, transport, dpop jkt) as JSON */
  context: Record<string, unknown>;
}

/** the phone of the SMS second factor; `confirmedAt` null while the enrolment code is pending */
export interface SmsPhoneRow {
  userId: string;
  /** the E.164 number, SecretBox-sealed with the user id as AAD */
  phoneSealed: string;
  /** display form, e.g. +44••••••789 */
  phoneMasked: string;
  confirmedAt: number | null;
  /** hash of the pending enrolment code; null once confirmed */
  codeHash: string | null;
  codeExpiresAt: number | null;
  /** guesses at the pending code, counted before each check */
  attempts: number;
  createdAt: number;
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;

  // users
  /** returns false when the email is taken (unique constraint), never throws for that */
  createUser(row: UserRow): Promise<boolean>;
  getUserById(id: string): Promise<UserRow | undefined>;
  getUserByEmail(email: string): Promise<UserRow | undefined>;
  setPasswordHash(userId: string, hash: string): Promise<void>;
  setPasswordResetRequired(userId: string, required: boolean): Promise<void>;

  // sessions
  createSession(row: SessionRow): Promise<void>;
  getSession(id: string): Promise<SessionRow | undefined>;
  /** live (not revoked, not expired at `now`) sessions of a user, newest first */
  listLiveSessions(userId: string, now: number): Promise<SessionRow[]>;
  touchSession(id: string, patch: { lastSeenAt: number; ip: string | null; geo: GeoPoint | null; userAgent: string | null }): Promise<void>;
  /**
   * Durable-first revocation: revokes the session if it is live and appends its revocation-feed row
   * (covering tokens until `until`) in the same transaction, so a revoked session is never missing from the
   * feed. Returns the row's cursor, or null (writing nothing) when the session was not live.
   */
  revokeSession(id: string, reason: string, at: number, until: number): Promise<number | null>;
  /**
   * Revokes every live session of a user except `exceptId` and appends one feed row per session, in one
   * transaction; returns each revoked session with its feed cursor, in cursor order.
   */
  revokeUserSessions(userId: string, reason: string, at: number, until: number, exceptId?: string): Promise<Array<{ sid: string; cursor: number }>>;

  // refresh tokens
  insertRefreshToken(row: RefreshTokenRow): Promise<void>;
  getRefreshToken(id: string): Promise<RefreshTokenRow | undefined>;
  /** every refresh token of a session's family, oldest first (audit and tests) */
  listRefreshTokens(sessionId: string): Promise<RefreshTokenRow[]>;
  /**
   * Atomic rotation: marks `id` used (only if it is still unused) and inserts `successor`, in one
   * transaction. Returns false, inserting nothing, when `id` was already used: two racing refreshes of one
   * token can never both win.
   */
  rotateRefreshToken(args: { id: string; usedAt: number; usedBy: string; successor: RefreshTokenRow; successorSealed: string | null }): Promise<boolean>;

  // signing keys
  listSigningKeys(): Promise<SigningKeyRow[]>;
  insertSigningKey(row: SigningKeyRow): Promise<void>;
  /** in one transaction: previous → retired, current → previous, next → current, insert `newNext` */
  rotateSigningKeys(newNext: SigningKeyRow): Promise<void>;

  // resource-server clients
  createClient(row: ClientRow): Promise<void>;
  getClient(id: string): Promise<ClientRow | undefined>;

  // security events (append-only)
  appendEvent(ev: NewEvent): Promise<number>;
  listEvents(q: { userId?: string; type?: string; limit: number; beforeId?: number }): Promise<EventRow[]>;

  // revocation feed
  appendRevocation(r: NewRevocation): Promise<number>;
  /** entries with cursor > since, ascending, at most `limit` */
  listRevocationsSince(since: number, limit: number): Promise<RevocationRow[]>;
  latestRevocationCursor(): Promise<number>;
  pruneRevocations(untilBefore: number): Promise<number>;

  // password resets
  insertPasswordReset(row: PasswordResetRow): Promise<void>;
  getPasswordReset(id: string): Promise<PasswordResetRow | undefined>;
  /** consume once: marks used only if unused and unexpired at `now`; returns the row when this call consumed it */
  consumePasswordReset(id: string, now: number): Promise<PasswordResetRow | undefined>;

  // TOTP
  putTotp(row: TotpRow): Promise<void>; // insert or replace (an unconfirmed enrolment restarts)
  getTotp(userId: string): Promise<TotpRow | undefined>;
  confirmTotp(userId: string, at: number, step: number): Promise<boolean>;
  deleteTotp(userId: string): Promise<void>;
  /** consume a time step once: sets last_step = step only if last_step is null or < step */
  useTotpStep(userId: string, step: number): Promise<boolean>;

  // recovery codes
  replaceRecoveryCodes(userId: string, hashes: string[], at: number): Promise<void>;
  /** consume once; true when this call used an unused code with this hash */
  consumeRecoveryCode(userId: string, hash: string, at: number): Promise<boolean>;
  countRecoveryCodes(userId: string): Promise<number>;
  deleteRecoveryCodes(userId: string): Promise<void>;

  // WebAuthn
  insertWebauthnCredential(row: WebauthnCredentialRow): Promise<void>;
  getWebauthnCredential(id: string): Promise<WebauthnCredentialRow | undefined>;
  listWebauthnCredentials(userId: string): Promise<WebauthnCredentialRow[]>;
  /** guarded: only moves the counter forward (a cloned authenticator replays an old counter) */
  updateWebauthnCounter(id: string, counter: number, usedAt: number): Promise<boolean>;
  deleteWebauthnCredential(userId: string, id: string): Promise<boolean>;

  // MFA challenges (mfa_token, WebAuthn ceremonies)
  insertMfaChallenge(row: MfaChallengeRow): Promise<void>;
  getMfaChallenge(id: string): Promise<MfaChallengeRow | undefined>;
  setMfaChallengeChallenge(id: string, challenge: string): Promise<void>;
  /** consume once: marks used only if unused and unexpired; returns the row when this call consumed it */
  consumeMfaChallenge(id: string, now: number): Promise<MfaChallengeRow | undefined>;
  /** guarded increment; returns the new failure count */
  incrementMfaFailures(id: string): Promise<number>;

  // SMS phone (second factor)
  /** insert, or replace an unconfirmed enrolment; false (nothing written) when a confirmed phone exists */
  putSmsPhone(row: SmsPhoneRow): Promise<boolean>;
  getSmsPhone(userId: string): Promise<SmsPhoneRow | undefined>;
  /** guarded increment of an unconfirmed enrolment's attempts; returns the new count, 0 when there is none */
  incrementSmsAttempts(userId: string): Promise<number>;
  /**
   * consume once: confirms an unconfirmed enrolment only if its pending code is `codeHash` and unexpired at
   * `at`, and clears the code; true when this call confirmed it
   */
  confirmSmsPhone(userId: string, codeHash: string, at: number): Promise<boolean>;
  deleteSmsPhone(userId: string): Promise<boolean>;

  /** housekeeping: deletes MFA challenges and password resets that expired before `before`; returns how many */
  pruneExpired(before: number): Promise<number>;

  // ---- wave/lockout (issue 17 items 3-5, 11): new operations, to port into the per-area stores ----
  /**
   * Voids every unused reset link of the user (sets used_at = `now`) in one UPDATE, so a sibling link
   * mailed earlier cannot be redeemed after a reset or a password change; returns how many it voided.
   */
  voidPasswordResets(userId: string, now: number): Promise<number>;
}
