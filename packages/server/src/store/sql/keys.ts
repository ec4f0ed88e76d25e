import type { SqlDialect } from '../dialects/dialect.js';
import type { KeyStore, SigningKeyRow } from '../ports/keys.js';
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
}
