import { sql, type CompiledQuery, type RawBuilder } from 'kysely';
import type { MfaCounts, Principal, PrincipalStore } from '../ports/principal.js';
import type { SessionRow } from '../ports/sessions.js';
import { ARRAY_ROWS, compiledOnce } from './compiled.js';
import { SESSION_COLUMNS, type Db } from './tables.js';

/**
 * The session's and the user's columns, in select order (the user's aliased apart from the session's). A
 * row is read by position (SQLite answers this statement with arrays: sql/compiled.ts ARRAY_ROWS), so the
 * select list and the positions come from this one list. Named, never `sessions.*`, as a prepared
 * statement's must be (compiled.ts); a users column left out is a type error in toPrincipal.
 */
const COLUMNS = [
  ...SESSION_COLUMNS.map((c) => `sessions.${c}` as const),
  'users.email as uEmail', 'users.passwordHash as uPasswordHash', 'users.isAdmin as uIsAdmin', 'users.passwordResetRequired as uPasswordResetRequired',
  'users.createdAt as uCreatedAt', 'users.disabledAt as uDisabledAt', 'users.emailVerifiedAt as uEmailVerifiedAt', 'users.legacy as uLegacy',
] as const;
/** the MFA summary's scalar subqueries, selected after COLUMNS */
const MFA = ['mfaTotp', 'mfaPasskeys', 'mfaSms', 'mfaRecovery'] as const;

function principalQuery(db: Db, sessionId: string) {
  return db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.userId')
    .select(COLUMNS)
    .select(mfaSummary(sql.raw('sessions.user_id')))
    .where('sessions.id', '=', sessionId);
}

/** A user's second factors as scalar subqueries, each on its table's user index, named as MFA says. */
function mfaSummary(userId: RawBuilder<unknown> | string) {
  return [
    sql<number>`(select count(*) from mfa_totp t where t.user_id = ${userId} and t.confirmed_at is not null)`.as(MFA[0]),
    sql<number>`(select count(*) from webauthn_credentials w where w.user_id = ${userId})`.as(MFA[1]),
    sql<string | null>`(select p.phone_masked from mfa_sms p where p.user_id = ${userId} and p.confirmed_at is not null)`.as(MFA[2]),
    sql<number>`(select count(*) from recovery_codes c where c.user_id = ${userId} and c.used_at is null)`.as(MFA[3]),
  ] as const;
}

/** the summary alone, as the database names it (run without the camel-case plugin) */
type CountsRow = { mfa_totp: number | string; mfa_passkeys: number | string; mfa_sms: string | null; mfa_recovery: number | string };

const counts = (totp: unknown, passkeys: unknown, sms: unknown, recovery: unknown): MfaCounts =>
  ({ totp: Number(totp) > 0, passkeys: Number(passkeys), sms: (sms as string | null) ?? null, recoveryCodesLeft: Number(recovery) });

/** The statement's row as the database gives it (JSON text, 0/1 booleans); a users column missing from COLUMNS is a type error in toPrincipal. */
type Selected = Awaited<ReturnType<ReturnType<typeof principalQuery>['executeTakeFirstOrThrow']>>;
/** `'users.email as uEmail'` → `uEmail`, `'sessions.ip'` → `ip`: a column's name in the result */
const outName = (c: string): string => c.slice(c.includes(' as ') ? c.indexOf(' as ') + 4 : c.indexOf('.') + 1);
/** each result name's position in the row */
const AT = Object.fromEntries([...COLUMNS.map(outName), ...MFA].map((n, i) => [n, i])) as Record<keyof Selected, number>;

/** an array of the columns on SQLite, an object (keys in select order) from the other drivers */
type RawRow = readonly unknown[] | Readonly<Record<string, unknown>>;

const json = <T>(v: string | null): T | null => (typeof v === 'string' ? (JSON.parse(v) as T) : null);

/** a column of the row by its result name (a constant per call site: one property load and an index) */
const col = <K extends keyof Selected>(row: readonly unknown[], k: K): Selected[K] => row[AT[k]] as Selected[K];

/**
 * The row to the principal in one step (the codecs' rules: JSON text parsed, 0/1 as booleans). No closure
 * per call: under tsx (the bench, the tests) each one created also gets a name set by Object.defineProperty.
 */
function toPrincipal(row: readonly unknown[]): Principal {
  const userId = col(row, 'userId');
  const session: SessionRow = {
    id: col(row, 'id'), userId, createdAt: col(row, 'createdAt'), lastSeenAt: col(row, 'lastSeenAt'), expiresAt: col(row, 'expiresAt'), ip: col(row, 'ip'),
    geo: json(col(row, 'geo')), userAgent: col(row, 'userAgent'), amr: json<string[]>(col(row, 'amr')) ?? [], authTime: col(row, 'authTime'), dpopJkt: col(row, 'dpopJkt'),
    transport: col(row, 'transport'), revokedAt: col(row, 'revokedAt'), revokeReason: col(row, 'revokeReason'),
  };
  return {
    session,
    user: {
      id: userId, email: col(row, 'uEmail'), passwordHash: col(row, 'uPasswordHash'), isAdmin: Number(col(row, 'uIsAdmin')) !== 0,
      passwordResetRequired: Number(col(row, 'uPasswordResetRequired')) !== 0, createdAt: col(row, 'uCreatedAt'), disabledAt: col(row, 'uDisabledAt'),
      emailVerifiedAt: col(row, 'uEmailVerifiedAt'), legacy: Number(col(row, 'uLegacy')) !== 0,
    },
    mfa: counts(col(row, 'mfaTotp'), col(row, 'mfaPasskeys'), col(row, 'mfaSms'), col(row, 'mfaRecovery')),
  };
}

/**
 * One statement per authenticated request: the session joined to its user, the MFA summary as scalar
 * subqueries (each on its table's user index).
 */
export class SqlPrincipal implements PrincipalStore {
  /** It runs without the camel-case plugin, whose result step would turn array rows into objects. */
  readonly #raw: Db;
  /** Built and compiled once (with the plugin: snake_case names in the SQL), marked for array rows on SQLite. */
  readonly #query;
  /** the same summary alone, for a sign-in deciding on its second step */
  readonly #counts;

  constructor(db: Db) {
    this.#raw = db.withoutPlugins();
    // marked on every dialect: SQLite answers arrays, the other drivers ignore the comment
    this.#query = compiledOnce(['sessionId'], (p: { sessionId: string }): CompiledQuery<RawRow> => {
      const q = principalQuery(db, p.sessionId).compile();
      return { ...q, sql: ARRAY_ROWS + q.sql };
    });
    this.#counts = compiledOnce(['userId'], (p: { userId: string }) => db.selectNoFrom(mfaSummary(p.userId)).compile() as CompiledQuery<CountsRow>);
  }

  async getPrincipal(sessionId: string): Promise<Principal | undefined> {
    const r = (await this.#raw.executeQuery(this.#query({ sessionId }))).rows[0];
    if (r === undefined) return undefined;
    // the other drivers answer objects, their keys in select order
    return toPrincipal(Array.isArray(r) ? r : Object.values(r));
  }

  async getMfaCounts(userId: string): Promise<MfaCounts> {
    const r = (await this.#raw.executeQuery(this.#counts({ userId }))).rows[0];
    if (!r) throw new Error('getMfaCounts: no row');
    return counts(r.mfa_totp, r.mfa_passkeys, r.mfa_sms, r.mfa_recovery);
  }
}
