/**
 * The refresh hot path's SQL: the one read a refresh needs (token, session, user, OAuth holder) and, where
 * the database can, the whole rotation as one statement. Both run on every refresh, so the read is built and
 * compiled once per database (Kysely otherwise rebuilds, transforms and compiles the query on every call).
 */
import { CompiledQuery, sql } from 'kysely';
import type { RefreshFamily, RotateRefreshArgs } from '../ports/sessions.js';
import { sessions, users } from './tables.js';
import type { Db } from './tables.js';

function familyQuery(db: Db, id: string) {
  // The session's and user's columns are aliased (a new column must be added here: the type check says so).
  return db
    .selectFrom('refreshTokens as t')
    .innerJoin('sessions as s', 's.id', 't.sessionId')
    .innerJoin('users as u', 'u.id', 's.userId')
    .leftJoin('oauthSessions as o', 'o.sessionId', 't.sessionId')
    .selectAll('t')
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

export class RefreshFamilyRead {
  #compiled: CompiledQuery<FamilyRow> | undefined;

  constructor(private readonly db: Db) {}

  async read(id: string): Promise<RefreshFamily | undefined> {
    // compiled once with a placeholder; the token id is the query's only parameter
    const compiled = (this.#compiled ??= familyQuery(this.db, '').compile());
    const r = (await this.db.executeQuery<FamilyRow>({ ...compiled, parameters: [id] })).rows[0];
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
}

/**
 * The rotation as one statement (PostgreSQL: data-modifying CTEs, one implicit transaction, no BEGIN/COMMIT
 * round trips). The guarded UPDATE is what decides the race, as in the transaction: a concurrent rotation
 * waits on the row lock, then finds `used_at` set and changes nothing, so its INSERT and session touch,
 * which run only for a row the UPDATE returned, do nothing either. Returns true when this call won.
 */
export async function rotateInOneStatement(db: Db, a: RotateRefreshArgs): Promise<boolean> {
  const s = a.successor;
  const t = a.touch;
  const touch = t
    ? sql`, touched as (
        update sessions set last_seen_at = ${t.lastSeenAt}, ip = ${t.ip}, geo = ${t.geo === null ? null : JSON.stringify(t.geo)}, user_agent = ${t.userAgent}
        where id = ${s.sessionId} and exists (select 1 from used))`
    : sql``;
  const r = await sql<{ won: number | string }>`
    with used as (
      update refresh_tokens set used_at = ${a.usedAt}, used_by = ${a.usedBy}, successor_id = ${s.id}, successor_sealed = ${a.successorSealed}
      where id = ${a.id} and used_at is null
      returning id
    ), successor as (
      insert into refresh_tokens (id, session_id, secret_hash, parent_id, created_at, expires_at, used_at, used_by, successor_id, successor_sealed)
      select ${s.id}, ${s.sessionId}, ${s.secretHash}, ${s.parentId}, ${s.createdAt}, ${s.expiresAt}, ${s.usedAt}, ${s.usedBy}, ${s.successorId}, ${s.successorSealed}
      from used
    )${touch}
    select count(*) as won from used`.execute(db);
  return Number(r.rows[0]?.won ?? 0) > 0;
}
