import type { SqlDialect } from '../dialects/dialect.js';
import type { NewRevocation, RevocationRow, RevocationStore } from '../ports/revocations.js';
import type { Db } from './tables.js';

/** appends one feed row; the caller holds `exclusive('revocations')`, so cursors commit in order */
export function appendFeedRow(trx: Db, d: SqlDialect, r: NewRevocation): Promise<number> {
  return d.insertSerial(trx, {
    returning: async (db) => (await db.insertInto('revocations').values(r).returning('cursor').executeTakeFirstOrThrow()).cursor,
    plain: (db) => db.insertInto('revocations').values(r).executeTakeFirstOrThrow(),
  });
}

export class SqlRevocations implements RevocationStore {
  constructor(
    private readonly db: Db,
    private readonly d: SqlDialect,
  ) {}

  // Sequences and auto-increments hand out values before commit: without the lock a reader could see
  // cursor 6 before cursor 5 commits, move its `since` past 5 and never learn of that revocation.
  async appendRevocation(r: NewRevocation): Promise<number> {
    return this.d.exclusive(this.db, 'revocations', (trx) => appendFeedRow(trx, this.d, r));
  }

  async listRevocationsSince(since: number, limit: number): Promise<RevocationRow[]> {
    return this.db.selectFrom('revocations').selectAll().where('cursor', '>', since).orderBy('cursor').limit(limit).execute();
  }

  async latestRevocationCursor(): Promise<number> {
    const r = await this.db
      .selectFrom('revocations')
      .select((eb) => eb.fn.max('cursor').as('c'))
      .executeTakeFirst();
    return Number(r?.c ?? 0);
  }

  async pruneRevocations(untilBefore: number): Promise<number> {
    return this.d.exclusive(this.db, 'revocations', async (trx) => {
      const newest = await trx
        .selectFrom('revocations')
        .select((eb) => eb.fn.max('cursor').as('m'))
        .executeTakeFirst();
      if (newest?.m === null || newest?.m === undefined) return 0;
      const r = await trx.deleteFrom('revocations').where('until', '<', untilBefore).where('cursor', '<', Number(newest.m)).executeTakeFirst();
      return Number(r.numDeletedRows);
    });
  }
}
