import { InsertResult } from 'kysely';
import type { SqlDialect } from '../dialects/dialect.js';
import type { EventRow, EventStore, NewEvent } from '../ports/events.js';
import { compiledOnce } from './compiled.js';
import { events, newEvents } from './tables.js';
import type { Db } from './tables.js';

const EVENT_COLUMNS = ['type', 'userId', 'sessionId', 'ip', 'data', 'createdAt'] as const;
type StoredEvent = ReturnType<typeof newEvents.toRow>;

export class SqlEvents implements EventStore {
  // nearly every request that changes something appends an event: built and compiled once (compiled.ts)
  readonly #returning;
  readonly #plain;

  constructor(
    private readonly db: Db,
    private readonly d: SqlDialect,
  ) {
    this.#returning = compiledOnce(EVENT_COLUMNS, (p: StoredEvent) => db.insertInto('events').values(p).returning('id').compile());
    this.#plain = compiledOnce(EVENT_COLUMNS, (p: StoredEvent) => db.insertInto('events').values(p).compile());
  }

  async appendEvent(ev: NewEvent): Promise<number> {
    const row = newEvents.toRow(ev);
    return this.d.insertSerial(this.db, {
      returning: async (db) => {
        const id = (await db.executeQuery(this.#returning(row))).rows[0]?.id;
        if (id === undefined) throw new Error('appendEvent: no id returned');
        return id;
      },
      plain: async (db) => {
        const r = await db.executeQuery(this.#plain(row));
        return new InsertResult(r.insertId, r.numAffectedRows ?? 0n);
      },
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
