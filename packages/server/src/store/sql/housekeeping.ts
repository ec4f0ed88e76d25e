import type { SqlDialect } from '../dialects/dialect.js';
import type { HousekeepingStore, PruneRange, PruneTarget } from '../ports/housekeeping.js';
import type { Db } from './tables.js';

/** a select that can take FOR UPDATE SKIP LOCKED (every Kysely SelectQueryBuilder) */
interface Lockable<Q> {
  forUpdate(): Q;
  skipLocked(): Q;
}

/**
 * Housekeeping batches. Each picks at most `limit` keys oldest first (through the time column's index), then
 * deletes or updates exactly those rows in the same short transaction: a concurrent batch on another node
 * skips the rows this one holds and takes the next ones, and no lock outlives the batch.
 */
export class SqlHousekeeping implements HousekeepingStore {
  constructor(
    private readonly db: Db,
    private readonly d: SqlDialect,
  ) {}

  async pruneBatch(target: PruneTarget, range: PruneRange, limit: number): Promise<number> {
    return this.d.batchTransaction(this.db, (trx) => this.run(trx, target, range, limit));
  }

  async compact(): Promise<void> {
    await this.d.compact(this.db);
  }

  private claim<Q extends Lockable<Q>>(q: Q): Q {
    return this.d.skipLocked ? q.forUpdate().skipLocked() : q;
  }

  private async run(trx: Db, target: PruneTarget, r: PruneRange, limit: number): Promise<number> {
    const from = r.from ?? Number.MIN_SAFE_INTEGER;
    switch (target) {
      case 'sealedSuccessors': {
        const q = trx.selectFrom('refreshTokens').select('id').where('usedAt', '>=', from).where('usedAt', '<', r.before).where('successorSealed', 'is not', null);
        const ids = (await this.claim(q.orderBy('usedAt').limit(limit)).execute()).map((x) => x.id);
        if (ids.length > 0) await trx.updateTable('refreshTokens').set({ successorSealed: null }).where('id', 'in', ids).execute();
        return ids.length;
      }
      case 'usedRefreshTokens': {
        const q = trx.selectFrom('refreshTokens').select('id').where('usedAt', '>=', from).where('usedAt', '<', r.before);
        const ids = (await this.claim(q.orderBy('usedAt').limit(limit)).execute()).map((x) => x.id);
        if (ids.length > 0) await trx.deleteFrom('refreshTokens').where('id', 'in', ids).execute();
        return ids.length;
      }
      case 'revokedSessions':
      case 'idleSessions': {
        const column = target === 'revokedSessions' ? 'revokedAt' : 'lastSeenAt';
        const q = trx.selectFrom('sessions').select('id').where(column, '>=', from).where(column, '<', r.before);
        const ids = (await this.claim(q.orderBy(column).limit(limit)).execute()).map((x) => x.id);
        if (ids.length === 0) return 0;
        // refresh tokens go by the foreign key's ON DELETE CASCADE; OAuth session rows have no foreign key
        await trx.deleteFrom('oauthSessions').where('sessionId', 'in', ids).execute();
        await trx.deleteFrom('sessions').where('id', 'in', ids).execute();
        return ids.length;
      }
      case 'mfaChallenges':
      case 'passwordResets':
      case 'oauthCodes':
      case 'emailVerifications':
      case 'emailChanges': {
        const table = target;
        const q = trx.selectFrom(table).select('id').where('expiresAt', '>=', from).where('expiresAt', '<', r.before);
        const ids = (await this.claim(q.orderBy('expiresAt').limit(limit)).execute()).map((x) => x.id);
        if (ids.length > 0) await trx.deleteFrom(table).where('id', 'in', ids).execute();
        return ids.length;
      }
      case 'events': {
        const q = trx.selectFrom('events').select('id').where('createdAt', '>=', from).where('createdAt', '<', r.before);
        const ids = (await this.claim(q.orderBy('createdAt').limit(limit)).execute()).map((x) => x.id);
        if (ids.length > 0) await trx.deleteFrom('events').where('id', 'in', ids).execute();
        return ids.length;
      }
    }
  }
}
