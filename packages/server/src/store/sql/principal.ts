import { sql, type CompiledQuery, type RawBuilder } from 'kysely';
import type { MfaCounts, Principal, PrincipalStore } from '../ports/principal.js';
import type { SessionRow } from '../ports/sessions.js';
import { compiledOnce } from './compiled.js';
import type { Db } from './tables.js';

// named, not `sessions.*`, as a prepared statement's must be (compiled.ts); one left out is a type error in toPrincipal
const SESSION_COLUMNS = ['id', 'userId', 'createdAt', 'lastSeenAt', 'expiresAt', 'ip', 'geo', 'userAgent', 'amr', 'authTime', 'dpopJkt', 'transport', 'revokedAt', 'revokeReason'] as const;

function principalQuery(db: Db, sessionId: string) {
  return db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.userId')
    .select(SESSION_COLUMNS.map((c) => `sessions.${c}` as const))
    .select([
      'users.email as uEmail',
      'users.passwordHash as uPasswordHash',
      'users.isAdmin as uIsAdmin',
      'users.passwordResetRequired as uPasswordResetRequired',
      'users.createdAt as uCreatedAt',
      'users.disabledAt as uDisabledAt',
      'users.emailVerifiedAt as uEmailVerifiedAt',
      'users.legacy as uLegacy',
    ])
    .select(mfaSummary(sql.raw('sessions.user_id')))
    .where('sessions.id', '=', sessionId);
}

/** A user's second factors as scalar subqueries, each on its table's user index. */
function mfaSummary(userId: RawBuilder<unknown> | string) {
  return [
    sql<number>`(select count(*) from mfa_totp t where t.user_id = ${userId} and t.confirmed_at is not null)`.as('mfaTotp'),
    sql<number>`(select count(*) from webauthn_credentials w where w.user_id = ${userId})`.as('mfaPasskeys'),
    sql<string | null>`(select p.phone_masked from mfa_sms p where p.user_id = ${userId} and p.confirmed_at is not null)`.as('mfaSms'),
    sql<number>`(select count(*) from recovery_codes c where c.user_id = ${userId} and c.used_at is null)`.as('mfaRecovery'),
  ] as const;
}

type CountsRow = { mfa_totp: number | string; mfa_passkeys: number | string; mfa_sms: string | null; mfa_recovery: number | string };

const countsOf = (r: CountsRow): MfaCounts => ({ totp: Number(r.mfa_totp) > 0, passkeys: Number(r.mfa_passkeys), sms: r.mfa_sms ?? null, recoveryCodesLeft: Number(r.mfa_recovery) });

/** `passwordHash` → `password_hash`: a column as the database names it (Kysely's CamelCasePlugin rule). */
type Snake<S extends string> = S extends `${infer H}${infer T}` ? `${H extends Lowercase<H> ? H : `_${Lowercase<H>}`}${Snake<T>}` : S;
type Selected = Awaited<ReturnType<ReturnType<typeof principalQuery>['executeTakeFirstOrThrow']>>;
/**
 * The statement's row as the driver returns it, before any plugin: the selected names as the database spells
 * them (a users column missing from the select is a type error in toPrincipal).
 */
type RawRow = { [K in Extract<keyof Selected, string> as Snake<K>]: Selected[K] };

const json = <T>(v: string | null): T | null => (typeof v === 'string' ? (JSON.parse(v) as T) : null);

/** The row to the principal in one step (the codecs' rules: JSON text parsed, 0/1 as booleans). */
function toPrincipal(r: RawRow): Principal {
  const session: SessionRow = {
    id: r.id, userId: r.user_id, createdAt: r.created_at, lastSeenAt: r.last_seen_at, expiresAt: r.expires_at, ip: r.ip,
    geo: json(r.geo), userAgent: r.user_agent, amr: json<string[]>(r.amr) ?? [], authTime: r.auth_time, dpopJkt: r.dpop_jkt,
    transport: r.transport, revokedAt: r.revoked_at, revokeReason: r.revoke_reason,
  };
  return {
    session,
    user: {
      id: r.user_id, email: r.u_email, passwordHash: r.u_password_hash, isAdmin: Number(r.u_is_admin) !== 0,
      passwordResetRequired: Number(r.u_password_reset_required) !== 0, createdAt: r.u_created_at, disabledAt: r.u_disabled_at,
      emailVerifiedAt: r.u_email_verified_at, legacy: Number(r.u_legacy) !== 0,
    },
    mfa: countsOf(r),
  };
}

/**
 * One statement per authenticated request: the session joined to its user, the MFA summary as scalar
 * subqueries (each on its table's user index). The user's columns are aliased (a new users column must be
 * added here: the type check says so), the session's keep their names.
 */
export class SqlPrincipal implements PrincipalStore {
  /** It runs without the camel-case plugin: toPrincipal reads the database's column names directly. */
  readonly #raw: Db;
  /** Built and compiled once (with the plugin, so the aliases come out snake_case as RawRow says). */
  readonly #query;
  /** the same summary alone, for a sign-in deciding on its second step */
  readonly #counts;

  constructor(db: Db) {
    this.#raw = db.withoutPlugins();
    this.#query = compiledOnce(['sessionId'], (p: { sessionId: string }) => principalQuery(db, p.sessionId).compile() as CompiledQuery<RawRow>);
    this.#counts = compiledOnce(['userId'], (p: { userId: string }) => db.selectNoFrom(mfaSummary(p.userId)).compile() as CompiledQuery<CountsRow>);
  }

  async getPrincipal(sessionId: string): Promise<Principal | undefined> {
    const r = (await this.#raw.executeQuery(this.#query({ sessionId }))).rows[0];
    return r && toPrincipal(r);
  }

  async getMfaCounts(userId: string): Promise<MfaCounts> {
    const r = (await this.#raw.executeQuery(this.#counts({ userId }))).rows[0];
    if (!r) throw new Error('getMfaCounts: no row');
    return countsOf(r);
  }
}
