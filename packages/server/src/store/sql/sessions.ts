import { sql } from 'kysely';
import type { SqlDialect } from '../dialects/dialect.js';
import type { RefreshFamily, RefreshTokenRow, RotateRefreshArgs, SessionPatch, SessionRow, SessionStore } from '../ports/sessions.js';
import { compiledOnce } from './compiled.js';
import { RefreshSql } from './refresh.js';
import { appendFeedRow } from './revocations.js';
import { SESSION_COLUMNS, changed, sessions, type Db } from './tables.js';

type StoredSession = ReturnType<typeof sessions.toRow>;
type Live = { userId: string; now: number };

export class SqlSessions implements SessionStore {
  readonly #refresh: RefreshSql;
  // every sign-in runs these: built and compiled once (compiled.ts)
  readonly #insert;
  readonly #sameAgent;
  readonly #agents;

  constructor(
    private readonly db: Db,
    private readonly d: SqlDialect,
  ) {
    this.#refresh = new RefreshSql(db);
    this.#insert = compiledOnce(SESSION_COLUMNS, (p: StoredSession) => db.insertInto('sessions').values(p).compile());
    // newest first along the (user_id, created_at) index: a returning device is usually among the first rows
    this.#sameAgent = compiledOnce(['userId', 'now', 'userAgent'], (p: Live & { userAgent: string }) =>
      this.live(p.userId, p.now).select('id').where('userAgent', '=', p.userAgent).orderBy('createdAt', 'desc').limit(sql.lit(1)).compile(),
    );
    this.#agents = compiledOnce(['userId', 'now'], (p: Live) => this.live(p.userId, p.now).select('userAgent').groupBy('userAgent').compile());
  }

  async createSession(row: SessionRow): Promise<void> {
    await this.db.executeQuery(this.#insert(sessions.toRow(row)));
  }

  async getSession(id: string): Promise<SessionRow | undefined> {
    const r = await this.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    return r && sessions.fromRow(r);
  }

  async listLiveSessions(userId: string, now: number): Promise<SessionRow[]> {
    const rows = await this.db
      .selectFrom('sessions')
      .selectAll()
      .where('userId', '=', userId)
      .where('revokedAt', 'is', null)
      .where('expiresAt', '>', now)
      .orderBy('createdAt', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return rows.map((r) => sessions.fromRow(r));
  }

  // Small answers instead of every live session (a user signing in thousands of times made every sign-in
  // read, parse and compare thousands of rows). `geo` is JSON.stringify's text, where a null coordinate is
  // exactly `"lat":null` (a string value cannot contain it unescaped): the filter keeps exactly the places
  // with both coordinates, as the travel rule's own test does.
  async lastLocatedSession(userId: string, now: number): Promise<SessionRow | undefined> {
    const r = await this.live(userId, now)
      .selectAll()
      .where('lastSeenAt', '<=', now)
      .where('geo', 'is not', null)
      .where('geo', 'not like', '%"lat":null%')
      .where('geo', 'not like', '%"lon":null%')
      .orderBy('lastSeenAt', 'desc')
      .orderBy('createdAt', 'asc')
      .orderBy('id', 'asc')
      .limit(1)
      .executeTakeFirst();
    return r && sessions.fromRow(r);
  }

  async liveUserAgents(userId: string, now: number, userAgent: string): Promise<Array<string | null>> {
    const same = await this.db.executeQuery(this.#sameAgent({ userId, now, userAgent }));
    if (same.rows.length > 0) return [userAgent];
    return (await this.db.executeQuery(this.#agents({ userId, now }))).rows.map((r) => r.userAgent);
  }

  private live(userId: string, now: number) {
    return this.db.selectFrom('sessions').where('userId', '=', userId).where('revokedAt', 'is', null).where('expiresAt', '>', now);
  }

  async touchSession(id: string, patch: SessionPatch, db: Db = this.db): Promise<void> {
    const geo = patch.geo === null ? null : JSON.stringify(patch.geo);
    await db.updateTable('sessions').set({ lastSeenAt: patch.lastSeenAt, ip: patch.ip, geo, userAgent: patch.userAgent }).where('id', '=', id).execute();
  }

  // The session change and its feed row commit together (durable first): a crash between the two can
  // neither leave a revoked session unannounced nor announce a revocation that did not happen.
  async revokeSession(id: string, reason: string, at: number, until: number): Promise<number | null> {
    return this.d.exclusive(this.db, 'revocations', async (trx) => {
      const r = await trx
        .updateTable('sessions')
        .set({ revokedAt: at, revokeReason: reason })
        .where('id', '=', id)
        .where('revokedAt', 'is', null)
        .where('expiresAt', '>', at)
        .executeTakeFirst();
      if (!changed(r)) return null;
      return appendFeedRow(trx, this.d, { sid: id, sub: null, revokedAt: at, until });
    });
  }

  // Every revocation holds the feed lock, so the live set read here cannot change before the UPDATE.
  async revokeUserSessions(userId: string, reason: string, at: number, until: number, exceptId?: string): Promise<Array<{ sid: string; cursor: number }>> {
    return this.d.exclusive(this.db, 'revocations', async (trx) => {
      let live = trx.selectFrom('sessions').select('id').where('userId', '=', userId).where('revokedAt', 'is', null).where('expiresAt', '>', at);
      if (exceptId !== undefined) live = live.where('id', '<>', exceptId);
      const ids = (await live.orderBy('id').execute()).map((r) => r.id);
      if (ids.length === 0) return [];
      await trx.updateTable('sessions').set({ revokedAt: at, revokeReason: reason }).where('id', 'in', ids).where('revokedAt', 'is', null).execute();
      const out: Array<{ sid: string; cursor: number }> = [];
      for (const sid of ids) out.push({ sid, cursor: await appendFeedRow(trx, this.d, { sid, sub: null, revokedAt: at, until }) });
      return out;
    });
  }

  insertRefreshToken(row: RefreshTokenRow): Promise<void> {
    return this.#refresh.insert(row);
  }

  async getRefreshToken(id: string): Promise<RefreshTokenRow | undefined> {
    return this.db.selectFrom('refreshTokens').selectAll().where('id', '=', id).executeTakeFirst();
  }

  getRefreshFamily(id: string): Promise<RefreshFamily | undefined> {
    return this.#refresh.family(id);
  }

  async listRefreshTokens(sessionId: string): Promise<RefreshTokenRow[]> {
    return this.db.selectFrom('refreshTokens').selectAll().where('sessionId', '=', sessionId).orderBy('createdAt').orderBy('id').execute();
  }

  rotateRefreshToken(args: RotateRefreshArgs): Promise<boolean> {
    return this.#refresh.rotate(args, this.d.writableCte);
  }
}
