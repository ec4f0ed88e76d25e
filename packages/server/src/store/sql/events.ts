import type { SqlDialect } from '../dialects/dialect.js';
import type { EventRow, EventStore, NewEvent } from '../ports/events.js';
import { events, newEvents } from './tables.js';
import type { Db } from './tables.js';

export class SqlEvents implements EventStore {
  constructor(
    private readonly db: Db,
    private readonly d: SqlDialect,
  ) {}

  async appendEvent(ev: NewEvent): Promise<number> {
    const row = newEvents.toRow(ev);
    return this.d.insertSerial(this.db, {
      returning: async (db) => (await db.insertInto('events').values(row).returning('id').executeTakeFirstOrThrow()).id,
      plain: (db) => db.insertInto('events').values(row).executeTakeFirstOrThrow(),
    });
  }

  async listEvents(q: { userId?: string; type?: string; limit: number; beforeId?: number }): Promise<EventRow[]> {
    let s = this.db.selectFrom('events').selectAll();
    if (q.userId !== undefined) s = s.where('userId', '=', q.userId);
    if (q.type !== undefined) s = s.where('type', '=', q.type);
    if (q.beforeId !== undefined) s = s.where('id', '<', q.beforeId);
    const rows = await s.orderBy('id', 'desc').limit(q.limit).execute();
    return rows.map((r) => events.fromRow(r));
  }
}
