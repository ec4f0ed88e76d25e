/**
 * The Kysely view of the database, shared by SQLite and PostgreSQL (store/migrations.ts creates it).
 * Times are epoch milliseconds (INTEGER / BIGINT, read back as numbers), booleans are 0/1 integers and JSON
 * fields are TEXT holding JSON, so one row shape works on both dialects.
 */
import type { Generated } from 'kysely';

export interface UsersTable {
  id: string;
  email: string;
  password_hash: string;
  is_admin: number;
  password_reset_required: number;
  created_at: number;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  ip: string | null;
  /** GeoPoint JSON or null */
  geo: string | null;
  user_agent: string | null;
  /** string[] JSON */
  amr: string;
  auth_time: number;
  dpop_jkt: string | null;
  transport: 'bearer' | 'cookie';
  revoked_at: number | null;
  revoke_reason: string | null;
}

export interface RefreshTokensTable {
  id: string;
  session_id: string;
  secret_hash: string;
  parent_id: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  used_by: string | null;
  successor_id: string | null;
  successor_sealed: string | null;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: string;
  private_sealed: string;
  state: 'next' | 'current' | 'previous' | 'retired';
  created_at: number;
}

export interface ClientsTable {
  id: string;
  name: string;
  secret_hash: string;
  created_at: number;
}

export interface EventsTable {
  id: Generated<number>;
  user_id: string | null;
  session_id: string | null;
  type: string;
  ip: string | null;
  /** object JSON */
  data: string;
  created_at: number;
}

export interface RevocationsTable {
  cursor: Generated<number>;
  sid: string | null;
  sub: string | null;
  revoked_at: number;
  until: number;
}

export interface PasswordResetsTable {
  id: string;
  user_id: string;
  secret_hash: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface MfaTotpTable {
  user_id: string;
  secret_sealed: string;
  confirmed_at: number | null;
  last_step: number | null;
  created_at: number;
}

export interface RecoveryCodesTable {
  user_id: string;
  code_hash: string;
  created_at: number;
  used_at: number | null;
}

export interface WebauthnCredentialsTable {
  id: string;
  user_id: string;
  public_key: string;
  counter: number;
  /** string[] JSON */
  transports: string;
  name: string;
  created_at: number;
  last_used_at: number | null;
}

export interface MfaChallengesTable {
  id: string;
  user_id: string | null;
  secret_hash: string;
  kind: 'mfa' | 'webauthn_register' | 'webauthn_login' | 'login_approval';
  challenge: string | null;
  failures: number;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  /** object JSON */
  context: string;
}

/** the phone of the SMS second factor; a row with confirmed_at null is an enrolment in progress */
export interface MfaSmsTable {
  user_id: string;
  /** the E.164 number, SecretBox-sealed (AAD = user id) */
  phone_sealed: string;
  /** display form, e.g. +44••••••789 */
  phone_masked: string;
  confirmed_at: number | null;
  /** hash of the pending enrolment code */
  code_hash: string | null;
  code_expires_at: number | null;
  attempts: number;
  created_at: number;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  signing_keys: SigningKeysTable;
  clients: ClientsTable;
  events: EventsTable;
  revocations: RevocationsTable;
  password_resets: PasswordResetsTable;
  mfa_totp: MfaTotpTable;
  recovery_codes: RecoveryCodesTable;
  webauthn_credentials: WebauthnCredentialsTable;
  mfa_challenges: MfaChallengesTable;
  mfa_sms: MfaSmsTable;
}

export type Dialect = 'sqlite' | 'postgres';
