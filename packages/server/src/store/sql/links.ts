import type { Kysely } from 'kysely';
import type { SqlDialect } from '../dialects/dialect.js';
import type { Database, Db } from './tables.js';

/** the tables of mailed single-use links: keyed by the link's id, spent by setting `usedAt` */
export type LinkTable = 'emailVerifications' | 'passwordResets' | 'emailChanges';

/** the columns every link table has and these queries touch; the rest of a row passes through as it is */
interface LinkColumns {
  id: string;
  expiresAt: number;
  usedAt: number | null;
}

// Kysely cannot type a query over "one of these tables"; seen through their shared columns, one query fits all.
type LinkDb = Kysely<Record<string, LinkColumns>>;
const asLinks = (db: Db) => db as unknown as LinkDb;

/** Insert, read and consume-once of one link table, for the store that owns it. */
export class SingleUseLinks<T extends LinkTable> {
  constructor(
    private readonly db: Db,
    private readonly d: SqlDialect,
    private readonly table: T,
  ) {}

  async insert(row: Database[T]): Promise<void> {
    await asLinks(this.db).insertInto(this.table).values(row).execute();
  }

  get(id: string): Promise<Database[T] | undefined> {
    return this.getIn(this.db, id);
  }

  /**
   * Marks the link used only if it is unused and unexpired at `now`, in one guarded UPDATE: of two clicks
   * (or a click and a replay of a forwarded mail) at once, one gets the row, the other undefined.
   */
  consume(id: string, now: number): Promise<Database[T] | undefined> {
    const guarded = (db: Db) =>
      asLinks(db).updateTable(this.table as string).set({ usedAt: now }).where('id', '=', id).where('usedAt', 'is', null).where('expiresAt', '>', now);
    return this.d.updateReturning(this.db, {
      returning: (db) => guarded(db).returningAll().executeTakeFirst() as Promise<Database[T] | undefined>,
      update: (db) => guarded(db).executeTakeFirstOrThrow(),
      read: (db) => this.getIn(db, id),
    });
  }

  private getIn(db: Db, id: string): Promise<Database[T] | undefined> {
    return asLinks(db).selectFrom(this.table as string).selectAll().where('id', '=', id).executeTakeFirst() as Promise<Database[T] | undefined>;
  }
}
