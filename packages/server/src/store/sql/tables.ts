/**
 * The Kysely view of the database, derived from the port row types: a table's columns are its row's fields
 * (Kysely's CamelCasePlugin maps `passwordHash` ↔ `password_hash`), except that JSON fields are stored as
 * text and booleans as 0/1 integers, so one row shape works on every dialect. Each table's codec names those
 * fields once; store/migrations.ts creates the tables.
 */
import type { Generated, Kysely } from 'kysely';
import type { ClientRow } from '../ports/clients.js';
import type { EventRow, NewEvent } from '../ports/events.js';
import type { SigningKeyRow } from '../ports/keys.js';
import type { EmailChangeRow } from '../ports/lifecycle.js';
import type { MfaChallengeRow } from '../ports/challenges.js';
import type { AuthCodeRow, ConsentRow, IdTokenKeyRow, LogoutDeliveryRow, OAuthClientRow, OAuthSessionRow } from '../ports/oauth.js';
import type { SmsPhoneRow } from '../ports/phones.js';
import type { PasswordResetRow } from '../ports/resets.js';
import type { RevocationRow } from '../ports/revocations.js';
import type { RefreshTokenRow, SessionRow } from '../ports/sessions.js';
import type { TotpRow } from '../ports/totp.js';
import type { UserRow } from '../ports/users.js';
import type { EmailVerificationRow } from '../ports/verifications.js';
import type { WebauthnCredentialRow } from '../ports/webauthn.js';

type Text<T> = null extends T ? string | null : string;

/** the stored shape of a port row: fields in J as JSON text, fields in B as 0/1 */
export type Stored<Row, J extends keyof Row = never, B extends keyof Row = never> = {
  [K in keyof Row]: K extends J ? Text<Row[K]> : K extends B ? number : Row[K];
};

export interface Codec<Row, S> {
  toRow(row: Row): S;
  fromRow(stored: S): Row;
}

/** one declarative description per table: which fields are JSON and which are booleans */
export function codec<Row extends object, J extends keyof Row = never, B extends keyof Row = never>(spec: {
  json?: readonly J[];
  bool?: readonly B[];
}): Codec<Row, Stored<Row, J, B>> {
  const json = (spec.json ?? []).map(String);
  const bool = (spec.bool ?? []).map(String);
  const convert = (input: object, toStored: boolean): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...input };
    for (const k of json) {
      const v = out[k];
      if (toStored) out[k] = v === null || v === undefined ? null : JSON.stringify(v);
      else out[k] = typeof v === 'string' ? (JSON.parse(v) as unknown) : null;
    }
    for (const k of bool) out[k] = toStored ? (out[k] === true ? 1 : 0) : Number(out[k]) !== 0;
    return out;
  };
  return {
    toRow: (row) => convert(row, true) as Stored<Row, J, B>,
    fromRow: (stored) => convert(stored, false) as Row,
  };
}

export const users = codec<UserRow, never, 'isAdmin' | 'passwordResetRequired' | 'legacy'>({ bool: ['isAdmin', 'passwordResetRequired', 'legacy'] });
export const sessions = codec<SessionRow, 'geo' | 'amr'>({ json: ['geo', 'amr'] });
/** a session row's columns, in one order: the statements built once name them (no `*`: compiled.ts) */
export const SESSION_COLUMNS = ['id', 'userId', 'createdAt', 'lastSeenAt', 'expiresAt', 'ip', 'geo', 'userAgent', 'amr', 'authTime', 'dpopJkt', 'transport', 'revokedAt', 'revokeReason'] as const satisfies ReadonlyArray<keyof SessionRow>;
export const events = codec<EventRow, 'data'>({ json: ['data'] });
export const newEvents = codec<NewEvent, 'data'>({ json: ['data'] });
export const webauthn = codec<WebauthnCredentialRow, 'transports'>({ json: ['transports'] });
export const challenges = codec<MfaChallengeRow, 'context'>({ json: ['context'] });
type ClientLists = 'redirectUris' | 'postLogoutRedirectUris' | 'scopes';
export const oauthClients = codec<OAuthClientRow, ClientLists, 'firstParty'>({ json: ['redirectUris', 'postLogoutRedirectUris', 'scopes'], bool: ['firstParty'] });
export const oauthCodes = codec<AuthCodeRow, 'amr'>({ json: ['amr'] });

export interface RecoveryCodesTable {
  userId: string;
  codeHash: string;
  createdAt: number;
  usedAt: number | null;
}

export interface Database {
  users: Stored<UserRow, never, 'isAdmin' | 'passwordResetRequired' | 'legacy'>;
  sessions: Stored<SessionRow, 'geo' | 'amr'>;
  refreshTokens: RefreshTokenRow;
  signingKeys: SigningKeyRow;
  clients: ClientRow;
  events: Omit<Stored<EventRow, 'data'>, 'id'> & { id: Generated<number> };
  revocations: Omit<RevocationRow, 'cursor'> & { cursor: Generated<number> };
  passwordResets: PasswordResetRow;
  emailVerifications: EmailVerificationRow;
  mfaTotp: TotpRow;
  recoveryCodes: RecoveryCodesTable;
  webauthnCredentials: Stored<WebauthnCredentialRow, 'transports'>;
  mfaChallenges: Stored<MfaChallengeRow, 'context'>;
  mfaSms: SmsPhoneRow;
  oauthClients: Stored<OAuthClientRow, ClientLists, 'firstParty'>;
  oauthCodes: Stored<AuthCodeRow, 'amr'>;
  oauthConsents: ConsentRow;
  oauthSessions: OAuthSessionRow;
  oauthIdKeys: IdTokenKeyRow;
  oauthLogoutDeliveries: LogoutDeliveryRow;
  oauthBackchannelCursor: { id: number; cursor: number };
  emailChanges: EmailChangeRow;
}

export type Db = Kysely<Database>;

/** true when an UPDATE or DELETE touched a row */
export const changed = (r: { numUpdatedRows: bigint } | { numDeletedRows: bigint }): boolean =>
  ('numUpdatedRows' in r ? r.numUpdatedRows : r.numDeletedRows) > 0n;
