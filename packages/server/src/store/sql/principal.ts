import { CompiledQuery, sql } from 'kysely';
import type { Principal, PrincipalStore } from '../ports/principal.js';
import { sessions, users } from './tables.js';
import type { Db } from './tables.js';

function principalQuery(db: Db, sessionId: string) {
  return db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.userId')
    .selectAll('sessions')
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
    .select([
      sql<number>`(select count(*) from mfa_totp t where t.user_id = sessions.user_id and t.confirmed_at is not null)`.as('mfaTotp'),
      sql<number>`(select count(*) from webauthn_credentials w where w.user_id = sessions.user_id)`.as('mfaPasskeys'),
      sql<string | null>`(select p.phone_masked from mfa_sms p where p.user_id = sessions.user_id and p.confirmed_at is not null)`.as('mfaSms'),
      sql<number>`(select count(*) from recovery_codes c where c.user_id = sessions.user_id and c.used_at is null)`.as('mfaRecovery'),
    ])
    .where('sessions.id', '=', sessionId);
}

type PrincipalRow = Awaited<ReturnType<ReturnType<typeof principalQuery>['executeTakeFirstOrThrow']>>;

/**
 * One statement per authenticated request: the session joined to its user, the MFA summary as scalar
 * subqueries (each on its table's user index). The user's columns are aliased (a new users column must be
 * added here: the type check says so), the session's keep their names.
 */
export class SqlPrincipal implements PrincipalStore {
  constructor(private readonly db: Db) {}

  /** The statement built and compiled once: Kysely's query building and compiling cost more than running it. */
  #compiled: CompiledQuery<PrincipalRow> | undefined;

  #compile(): CompiledQuery<PrincipalRow> {
    const c = principalQuery(this.db, '').compile();
    // the session id must be the statement's one and only parameter, or binding it below would be wrong
    if (c.parameters.length !== 1) throw new Error(`principal query: ${c.parameters.length} parameters, expected 1`);
    return c;
  }

  async getPrincipal(sessionId: string): Promise<Principal | undefined> {
    this.#compiled ??= this.#compile();
    // the plugins (camel case) still map the row: only the building and compiling are skipped
    const query: CompiledQuery<PrincipalRow> = { ...this.#compiled, parameters: [sessionId] };
    const r = (await this.db.executeQuery(query)).rows[0];
    if (!r) return undefined;
    const { uEmail, uPasswordHash, uIsAdmin, uPasswordResetRequired, uCreatedAt, uDisabledAt, uEmailVerifiedAt, uLegacy, mfaTotp, mfaPasskeys, mfaSms, mfaRecovery, ...session } = r;
    return {
      session: sessions.fromRow(session),
      user: users.fromRow({ id: session.userId, email: uEmail, passwordHash: uPasswordHash, isAdmin: uIsAdmin, passwordResetRequired: uPasswordResetRequired, createdAt: uCreatedAt, disabledAt: uDisabledAt, emailVerifiedAt: uEmailVerifiedAt, legacy: uLegacy }),
      mfa: { totp: Number(mfaTotp) > 0, passkeys: Number(mfaPasskeys), sms: mfaSms ?? null, recoveryCodesLeft: Number(mfaRecovery) },
    };
  }
}
