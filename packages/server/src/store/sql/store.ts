/**
 * The one Store over Kysely: each area's SQL (this folder) composed into the ports, on whichever dialect
 * opened the database. Atomicity lives in each operation (a guarded UPDATE, or one transaction whose
 * first statement writes); the dialect supplies RETURNING or its replacement, and the locks.
 */
import type { SqlDialect } from '../dialects/dialect.js';
import type {
  ChallengeStore,
  ClientStore,
  EventStore,
  KekCheckStore,
  KeyStore,
  HousekeepingStore,
  LifecycleStore,
  MaintenanceStore,
  OAuthStore,
  PhoneStore,
  PrincipalStore,
  RecoveryCodeStore,
  ResetStore,
  RevocationStore,
  SessionStore,
  Store,
  TotpStore,
  UserStore,
  VerificationStore,
  WebauthnStore,
} from '../ports/index.js';
import { SqlChallenges } from './challenges.js';
import { SqlClients } from './clients.js';
import { SqlEvents } from './events.js';
import { SqlKekCheck, SqlKeys } from './keys.js';
import { SqlHousekeeping } from './housekeeping.js';
import { SqlLifecycle } from './lifecycle.js';
import { SqlMaintenance } from './maintenance.js';
import { SqlOAuth } from './oauth.js';
import { SqlPhones } from './phones.js';
import { SqlPrincipal } from './principal.js';
import { SqlRecoveryCodes } from './recovery-codes.js';
import { SqlResets } from './resets.js';
import { SqlRevocations } from './revocations.js';
import { SqlSessions } from './sessions.js';
import type { Db } from './tables.js';
import { SqlTotp } from './totp.js';
import { SqlUsers } from './users.js';
import { SqlVerifications } from './verifications.js';
import { SqlWebauthn } from './webauthn.js';

/** a Store that also hands out its Kysely instance (camelCase columns), for tests and maintenance tools */
export interface SqlStore extends Store {
  readonly db: Db;
}

/** the prototype methods of an area, bound to it, as a plain object of the port's shape */
function methods<Port extends object>(impl: Port): Port {
  const out: Record<string, unknown> = {};
  for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(impl) as object)) {
    const fn: unknown = Reflect.get(impl, name);
    if (name !== 'constructor' && typeof fn === 'function') out[name] = (fn as (...a: unknown[]) => unknown).bind(impl);
  }
  return out as Port;
}

export function sqlStore(db: Db, d: SqlDialect): SqlStore {
  const maintenance = new SqlMaintenance(db, d);
  return {
    ...methods<MaintenanceStore>(maintenance),
    ...methods<UserStore>(new SqlUsers(db, d)),
    ...methods<SessionStore>(new SqlSessions(db, d)),
    ...methods<KeyStore>(new SqlKeys(db, d)),
    ...methods<KekCheckStore>(new SqlKekCheck(db, d)),
    ...methods<ClientStore>(new SqlClients(db)),
    ...methods<EventStore>(new SqlEvents(db, d)),
    ...methods<RevocationStore>(new SqlRevocations(db, d)),
    ...methods<ResetStore>(new SqlResets(db, d)),
    ...methods<VerificationStore>(new SqlVerifications(db, d)),
    ...methods<TotpStore>(new SqlTotp(db, d)),
    ...methods<RecoveryCodeStore>(new SqlRecoveryCodes(db)),
    ...methods<WebauthnStore>(new SqlWebauthn(db)),
    ...methods<ChallengeStore>(new SqlChallenges(db, d)),
    ...methods<PhoneStore>(new SqlPhones(db, d)),
    ...methods<OAuthStore>(new SqlOAuth(db, d)),
    ...methods<LifecycleStore>(new SqlLifecycle(db, d)),
    ...methods<HousekeepingStore>(new SqlHousekeeping(db, d)),
    ...methods<PrincipalStore>(new SqlPrincipal(db)),
    dialect: maintenance.dialect,
    db,
  };
}
