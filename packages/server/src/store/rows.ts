/** Mapping between snake_case rows (0/1 booleans, JSON text) and the camelCase types of store/types.ts. */
import type { Insertable, Selectable } from 'kysely';
import type {
  EventRow,
  GeoPoint,
  MfaChallengeRow,
  PasswordResetRow,
  RefreshTokenRow,
  RevocationRow,
  SessionRow,
  SigningKeyRow,
  SmsPhoneRow,
  TotpRow,
  UserRow,
  WebauthnCredentialRow,
} from './types.js';
import type {
  EventsTable,
  MfaChallengesTable,
  MfaSmsTable,
  PasswordResetsTable,
  RefreshTokensTable,
  RevocationsTable,
  SessionsTable,
  SigningKeysTable,
  MfaTotpTable,
  UsersTable,
  WebauthnCredentialsTable,
} from './schema.js';

const bool = (v: number): boolean => v !== 0;
const int = (v: boolean): number => (v ? 1 : 0);

function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

export const users = {
  toRow: (u: UserRow): Insertable<UsersTable> => ({
    id: u.id,
    email: u.email,
    password_hash: u.passwordHash,
    is_admin: int(u.isAdmin),
    password_reset_required: int(u.passwordResetRequired),
    created_at: u.createdAt,
  }),
  fromRow: (r: Selectable<UsersTable>): UserRow => ({
    id: r.id,
    email: r.email,
    passwordHash: r.password_hash,
    isAdmin: bool(r.is_admin),
    passwordResetRequired: bool(r.password_reset_required),
    createdAt: r.created_at,
  }),
};

export const geoJson = (g: GeoPoint | null): string | null => (g === null ? null : JSON.stringify(g));

export const sessions = {
  toRow: (s: SessionRow): Insertable<SessionsTable> => ({
    id: s.id,
    user_id: s.userId,
    created_at: s.createdAt,
    last_seen_at: s.lastSeenAt,
    expires_at: s.expiresAt,
    ip: s.ip,
    geo: geoJson(s.geo),
    user_agent: s.userAgent,
    amr: JSON.stringify(s.amr),
    auth_time: s.authTime,
    dpop_jkt: s.dpopJkt,
    transport: s.transport,
    revoked_at: s.revokedAt,
    revoke_reason: s.revokeReason,
  }),
  fromRow: (r: Selectable<SessionsTable>): SessionRow => ({
    id: r.id,
    userId: r.user_id,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    expiresAt: r.expires_at,
    ip: r.ip,
    geo: r.geo === null ? null : parseJson<GeoPoint>(r.geo),
    userAgent: r.user_agent,
    amr: parseJson<string[]>(r.amr),
    authTime: r.auth_time,
    dpopJkt: r.dpop_jkt,
    transport: r.transport,
    revokedAt: r.revoked_at,
    revokeReason: r.revoke_reason,
  }),
};

export const refreshTokens = {
  toRow: (t: RefreshTokenRow): Insertable<RefreshTokensTable> => ({
    id: t.id,
    session_id: t.sessionId,
    secret_hash: t.secretHash,
    parent_id: t.parentId,
    created_at: t.createdAt,
    expires_at: t.expiresAt,
    used_at: t.usedAt,
    used_by: t.usedBy,
    successor_id: t.successorId,
    successor_sealed: t.successorSealed,
  }),
  fromRow: (r: Selectable<RefreshTokensTable>): RefreshTokenRow => ({
    id: r.id,
    sessionId: r.session_id,
    secretHash: r.secret_hash,
    parentId: r.parent_id,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    usedAt: r.used_at,
    usedBy: r.used_by,
    successorId: r.successor_id,
    successorSealed: r.successor_sealed,
  }),
};

export const signingKeys = {
  toRow: (k: SigningKeyRow): Insertable<SigningKeysTable> => ({
    kid: k.kid,
    alg: k.alg,
    public_jwk: k.publicJwk,
    private_sealed: k.privateSealed,
    state: k.state,
    created_at: k.createdAt,
  }),
  fromRow: (r: Selectable<SigningKeysTable>): SigningKeyRow => ({
    kid: r.kid,
    alg: r.alg,
    publicJwk: r.public_jwk,
    privateSealed: r.private_sealed,
    state: r.state,
    createdAt: r.created_at,
  }),
};

export const events = {
  fromRow: (r: Selectable<EventsTable>): EventRow => ({
    id: r.id,
    userId: r.user_id,
    sessionId: r.session_id,
    type: r.type,
    ip: r.ip,
    data: parseJson<Record<string, unknown>>(r.data),
    createdAt: r.created_at,
  }),
};

export const revocations = {
  fromRow: (r: Selectable<RevocationsTable>): RevocationRow => ({
    cursor: r.cursor,
    sid: r.sid,
    sub: r.sub,
    revokedAt: r.revoked_at,
    until: r.until,
  }),
};

export const passwordResets = {
  toRow: (p: PasswordResetRow): Insertable<PasswordResetsTable> => ({
    id: p.id,
    user_id: p.userId,
    secret_hash: p.secretHash,
    created_at: p.createdAt,
    expires_at: p.expiresAt,
    used_at: p.usedAt,
  }),
  fromRow: (r: Selectable<PasswordResetsTable>): PasswordResetRow => ({
    id: r.id,
    userId: r.user_id,
    secretHash: r.secret_hash,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    usedAt: r.used_at,
  }),
};

export const totp = {
  toRow: (t: TotpRow): Insertable<MfaTotpTable> => ({
    user_id: t.userId,
    secret_sealed: t.secretSealed,
    confirmed_at: t.confirmedAt,
    last_step: t.lastStep,
    created_at: t.createdAt,
  }),
  fromRow: (r: Selectable<MfaTotpTable>): TotpRow => ({
    userId: r.user_id,
    secretSealed: r.secret_sealed,
    confirmedAt: r.confirmed_at,
    lastStep: r.last_step,
    createdAt: r.created_at,
  }),
};

export const webauthn = {
  toRow: (c: WebauthnCredentialRow): Insertable<WebauthnCredentialsTable> => ({
    id: c.id,
    user_id: c.userId,
    public_key: c.publicKey,
    counter: c.counter,
    transports: JSON.stringify(c.transports),
    name: c.name,
    created_at: c.createdAt,
    last_used_at: c.lastUsedAt,
  }),
  fromRow: (r: Selectable<WebauthnCredentialsTable>): WebauthnCredentialRow => ({
    id: r.id,
    userId: r.user_id,
    publicKey: r.public_key,
    counter: r.counter,
    transports: parseJson<string[]>(r.transports),
    name: r.name,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
  }),
};

export const mfaChallenges = {
  toRow: (m: MfaChallengeRow): Insertable<MfaChallengesTable> => ({
    id: m.id,
    user_id: m.userId,
    secret_hash: m.secretHash,
    kind: m.kind,
    challenge: m.challenge,
    failures: m.failures,
    created_at: m.createdAt,
    expires_at: m.expiresAt,
    used_at: m.usedAt,
    context: JSON.stringify(m.context),
  }),
  fromRow: (r: Selectable<MfaChallengesTable>): MfaChallengeRow => ({
    id: r.id,
    userId: r.user_id,
    secretHash: r.secret_hash,
    kind: r.kind,
    challenge: r.challenge,
    failures: r.failures,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    usedAt: r.used_at,
    context: parseJson<Record<string, unknown>>(r.context),
  }),
};

export const smsPhones = {
  toRow: (p: SmsPhoneRow): Insertable<MfaSmsTable> => ({
    user_id: p.userId,
    phone_sealed: p.phoneSealed,
    phone_masked: p.phoneMasked,
    confirmed_at: p.confirmedAt,
    code_hash: p.codeHash,
    code_expires_at: p.codeExpiresAt,
    attempts: p.attempts,
    created_at: p.createdAt,
  }),
  fromRow: (r: Selectable<MfaSmsTable>): SmsPhoneRow => ({
    userId: r.user_id,
    phoneSealed: r.phone_sealed,
    phoneMasked: r.phone_masked,
    confirmedAt: r.confirmed_at,
    codeHash: r.code_hash,
    codeExpiresAt: r.code_expires_at,
    attempts: r.attempts,
    createdAt: r.created_at,
  }),
};
