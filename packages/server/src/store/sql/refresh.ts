/**
 * The refresh hot path's SQL: the one read a refresh needs (token, session, user, OAuth holder) and, where
 * the database can, the whole rotation as one statement. They run on every refresh, so each statement is
 * built and compiled once per database (compiled.ts).
 */
import { sql } from 'kysely';
import type { RefreshFamily, RefreshTokenRow, RotateRefreshArgs } from '../ports/sessions.js';
import { compiledOnce } from './compiled.js';
import { sessions, users } from './tables.js';
import type { Db } from './tables.js';

const TOKEN_COLUMNS = ['id', 'sessionId', 'secretHash', 'parentId', 'createdAt', 'expiresAt', 'usedAt', 'usedBy', 'successorId', 'successorSealed'] as const;

function familyQuery(db: Db, id: string) {
  // The session's and user's columns are aliased (a new column must be added here: the type check says so);
  // the token's are named too, as a prepared statement must (compiled.ts).
  return db
    .selectFrom('refreshTokens as t')
    .innerJoin('sessions as s', 's.id', 't.sessionId')
    .innerJoin('users as u', 'u.id', 's.userId')
    .leftJoin('oauthSessions as o', 'o.sessionId', 't.sessionId')
    .select(TOKEN_COLUMNS.map((c) => `t.${c}` as const))
    .select([
      's.userId as sUserId',
      's.createdAt as sCreatedAt',
      's.lastSeenAt as sLastSeenAt',
      's.expiresAt as sExpiresAt',
      's.ip as sIp',
      's.geo as sGeo',
      's.userAgent as sUserAgent',
      's.amr as sAmr',
      's.authTime as sAuthTime',
      's.dpopJkt as sDpopJkt',
      's.transport as sTransport',
      's.revokedAt as sRevokedAt',
      's.revokeReason as sRevokeReason',
    ])
    .select([
      'u.email as uEmail',
      'u.passwordHash as uPasswordHash',
      'u.isAdmin as uIsAdmin',
      'u.passwordResetRequired as uPasswordResetRequired',
      'u.createdAt as uCreatedAt',
      'u.disabledAt as uDisabledAt',
      'u.emailVerifiedAt as uEmailVerifiedAt',
      'u.legacy as uLegacy',
    ])
    .select('o.clientId as oClientId')
    .where('t.id', '=', id);
}

type FamilyRow = NonNullable<Awaited<ReturnType<ReturnType<typeof familyQuery>['executeTakeFirst']>>>;

type Used = { id: string; usedAt: number; usedBy: string; successorId: string; successorSealed: string | null };
type Touch = { sessionId: string; lastSeenAt: number; ip: string | null; geo: string | null; userAgent: string | null };
const USED = ['id', 'usedAt', 'usedBy', 'successorId', 'successorSealed'] as const;
const TOUCH = ['sessionId', 'lastSeenAt', 'ip', 'geo', 'userAgent'] as const;

export class RefreshSql {
  readonly #family;
  readonly #markUsed;
  readonly #insert;
  readonly #touch;
  readonly #oneStatement;

  constructor(private readonly db: Db) {
    this.#family = compiledOnce(['id'], (p: { id: string }) => familyQuery(db, p.id).compile());
    this.#markUsed = compiledOnce(USED, (p: Used) =>
      // the guarded UPDATE is the first statement: the row stays locked until commit, so one racer wins
      db.updateTable('refreshTokens').set({ usedAt: p.usedAt, usedBy: p.usedBy, successorId: p.successorId, successorSealed: p.successorSealed }).where('id', '=', p.id).where('usedAt', 'is', null).compile(),
    );
    this.#insert = compiledOnce(TOKEN_COLUMNS, (p: RefreshTokenRow) => db.insertInto('refreshTokens').values(p).compile());
    this.#touch = compiledOnce(TOUCH, (p: Touch) => db.updateTable('sessions').set({ lastSeenAt: p.lastSeenAt, ip: p.ip, geo: p.geo, userAgent: p.userAgent }).where('id', '=', p.sessionId).compile());
    this.#oneStatement = compiledOnce([...USED, ...TOKEN_COLUMNS.map((c) => `s_${c}` as const), ...TOUCH], (p: OneStatement) => oneStatement(p).compile(db));
  }

  async family(id: string): Promise<RefreshFamily | undefined> {
    const r: FamilyRow | undefined = (await this.db.executeQuery(this.#family({ id }))).rows[0];
    if (!r) return undefined;
    const { sUserId, sCreatedAt, sLastSeenAt, sExpiresAt, sIp, sGeo, sUserAgent, sAmr, sAuthTime, sDpopJkt, sTransport, sRevokedAt, sRevokeReason } = r;
    const { uEmail, uPasswordHash, uIsAdmin, uPasswordResetRequired, uCreatedAt, uDisabledAt, uEmailVerifiedAt, uLegacy, oClientId } = r;
    return {
      token: {
        id: r.id,
        sessionId: r.sessionId,
        secretHash: r.secretHash,
        parentId: r.parentId,
        createdAt: r.createdAt,
        expiresAt: r.expiresAt,
        usedAt: r.usedAt,
        usedBy: r.usedBy,
        successorId: r.successorId,
        successorSealed: r.successorSealed,
      },
      session: sessions.fromRow({
        id: r.sessionId,
        userId: sUserId,
        createdAt: sCreatedAt,
        lastSeenAt: sLastSeenAt,
        expiresAt: sExpiresAt,
        ip: sIp,
        geo: sGeo,
        userAgent: sUserAgent,
        amr: sAmr,
        authTime: sAuthTime,
        dpopJkt: sDpopJkt,
        transport: sTransport,
        revokedAt: sRevokedAt,
        revokeReason: sRevokeReason,
      }),
      user: users.fromRow({ id: sUserId, email: uEmail, passwordHash: uPasswordHash, isAdmin: uIsAdmin, passwordResetRequired: uPasswordResetRequired, createdAt: uCreatedAt, disabledAt: uDisabledAt, emailVerifiedAt: uEmailVerifiedAt, legacy: uLegacy }),
      oauthClientId: oClientId ?? null,
    };
  }

  /**
   * Marks `args.id` used, only if it is still unused, inserts the successor and touches the session, all or
   * nothing; true when this call won. With `writableCte`, one statement; otherwise one transaction.
   */
  async rotate(args: RotateRefreshArgs, writableCte: boolean): Promise<boolean> {
    const used: Used = { id: args.id, usedAt: args.usedAt, usedBy: args.usedBy, successorId: args.successor.id, successorSealed: args.successorSealed };
    const t = args.touch;
    if (writableCte && t) {
      const s = Object.fromEntries(TOKEN_COLUMNS.map((c) => [`s_${c}`, args.successor[c]]));
      const r = await this.db.executeQuery(this.#oneStatement({ ...used, ...s, ...touchOf(args.successor.sessionId, t) } as OneStatement));
      return Number(r.rows[0]?.won ?? 0) > 0;
    }
    return this.db.transaction().execute(async (trx) => {
      const r = await trx.executeQuery(this.#markUsed(used));
      if (!((r.numAffectedRows ?? 0n) > 0n)) return false;
      await trx.executeQuery(this.#insert(args.successor));
      if (t) await trx.executeQuery(this.#touch(touchOf(args.successor.sessionId, t)));
      return true;
    });
  }
}

function touchOf(sessionId: string, t: NonNullable<RotateRefreshArgs['touch']>): Touch {
  return { sessionId, lastSeenAt: t.lastSeenAt, ip: t.ip, geo: t.geo === null ? null : JSON.stringify(t.geo), userAgent: t.userAgent };
}

type OneStatement = Used & { [K in (typeof TOKEN_COLUMNS)[number] as `s_${K}`]: RefreshTokenRow[K] } & Touch;

/**
 * The rotation as one statement (PostgreSQL: data-modifying CTEs, one implicit transaction, no BEGIN/COMMIT
 * round trips). The guarded UPDATE decides the race, as in the transaction: a concurrent rotation waits on
 * the row lock, then finds `used_at` set and changes nothing, so its INSERT and session touch, which run
 * only for a row the UPDATE returned, do nothing either.
 */
function oneStatement(p: OneStatement) {
  return sql<{ won: number | string }>`
    with used as (
      update refresh_tokens set used_at = ${p.usedAt}, used_by = ${p.usedBy}, successor_id = ${p.successorId}, successor_sealed = ${p.successorSealed}
      where id = ${p.id} and used_at is null
      returning id
    ), successor as (
      insert into refresh_tokens (id, session_id, secret_hash, parent_id, created_at, expires_at, used_at, used_by, successor_id, successor_sealed)
      select ${p.s_id}, ${p.s_sessionId}, ${p.s_secretHash}, ${p.s_parentId}, ${p.s_createdAt}, ${p.s_expiresAt}, ${p.s_usedAt}, ${p.s_usedBy}, ${p.s_successorId}, ${p.s_successorSealed}
      from used
    ), touched as (
      update sessions set last_seen_at = ${p.lastSeenAt}, ip = ${p.ip}, geo = ${p.geo}, user_agent = ${p.userAgent}
      where id = ${p.sessionId} and exists (select 1 from used)
    )
    select count(*) as won from used`;
}
