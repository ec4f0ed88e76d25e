import type { SqlDialect } from '../dialects/dialect.js';
import { sql } from 'kysely';
import type { KekCheckStore, KeyStore, SigningKeyRow } from '../ports/keys.js';
import type { Db } from './tables.js';

export class SqlKeys implements KeyStore {
  constructor(
    private readonly db: Db,
    private readonly d: SqlDialect,
  ) {}

  async listSigningKeys(): Promise<SigningKeyRow[]> {
    return this.db.selectFrom('signingKeys').selectAll().orderBy('createdAt').orderBy('kid').execute();
  }

  async insertSigningKey(row: SigningKeyRow): Promise<void> {
    await this.db.insertInto('signingKeys').values(row).execute();
  }

  // two racing rotations must not each shift a different snapshot of states (two current keys)
  async rotateSigningKeys(newNext: SigningKeyRow): Promise<void> {
    await this.d.exclusive(this.db, 'signing_keys', async (trx) => {
      await trx.updateTable('signingKeys').set({ state: 'retired' }).where('state', '=', 'previous').execute();
      await trx.updateTable('signingKeys').set({ state: 'previous' }).where('state', '=', 'current').execute();
      await trx.updateTable('signingKeys').set({ state: 'current' }).where('state', '=', 'next').execute();
      await trx.insertInto('signingKeys').values({ ...newNext, state: 'next' }).execute();
    });
  }

  async bootstrapSigningKeys(current: SigningKeyRow, next: SigningKeyRow): Promise<boolean> {
    return this.d.exclusive(this.db, 'signing_keys', async (trx) => {
      const live = await trx.selectFrom('signingKeys').select(['state']).where('alg', '=', current.alg).where('state', 'in', ['current', 'next']).execute();
      if (live.some((r) => r.state === 'current')) return false;
      await trx.insertInto('signingKeys').values({ ...current, state: 'current' }).execute();
      if (!live.some((r) => r.state === 'next')) await trx.insertInto('signingKeys').values({ ...next, state: 'next' }).execute();
      return true;
    });
  }
}

/** PostgreSQL 42P01, MySQL ER_NO_SUCH_TABLE, SQLite "no such table": read before the first migration. */
function isMissingTable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return e?.code === '42P01' || e?.code === 'ER_NO_SUCH_TABLE' || (typeof e?.message === 'string' && /no such table/.test(e.message));
}

async function orUndefined<T>(read: () => Promise<T | undefined>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if (isMissingTable(err)) return undefined;
    throw err;
  }
}

/** The KEK check value is read with plain SQL: its table may not exist yet when a node starts. */
export class SqlKekCheck implements KekCheckStore {
  constructor(
    private readonly db: Db,
    private readonly d: SqlDialect,
  ) {}

  async getKekCheck(): Promise<string | undefined> {
    return orUndefined(async () => {
      const r = await sql<{ value: string }>`select value from kek_check where id = 1`.execute(this.db);
      return r.rows[0]?.value;
    });
  }

  async putKekCheck(value: string, at: number): Promise<string> {
    try {
      await sql`insert into kek_check (id, value, created_at) values (1, ${value}, ${at})`.execute(this.db);
    } catch (err) {
      // a node starting at the same instant wrote first: its value is the one that counts
      if (!this.d.isUniqueViolation(err)) throw err;
    }
    const stored = await this.getKekCheck();
    if (stored === undefined) throw new Error('kek_check: the stored value vanished');
    return stored;
  }

  async anySealedKey(): Promise<{ kid: string; sealed: string } | undefined> {
    return orUndefined(async () => {
      // result columns come back camelCased (CamelCasePlugin), raw SQL included
      const r = await sql<{ kid: string; privateSealed: string }>`select kid, private_sealed from signing_keys where private_sealed like 'v1.%' limit 1`.execute(this.db);
      const row = r.rows[0];
      return row && { kid: row.kid, sealed: row.privateSealed };
    });
  }
}
