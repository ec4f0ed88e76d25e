import type { RecoveryCodeStore } from '../ports/recovery-codes.js';
import { changed } from './tables.js';
import type { Db } from './tables.js';

export class SqlRecoveryCodes implements RecoveryCodeStore {
  constructor(private readonly db: Db) {}

  async replaceRecoveryCodes(userId: string, hashes: string[], at: number): Promise<void> {
    const unique = [...new Set(hashes)];
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('recoveryCodes').where('userId', '=', userId).execute();
      if (unique.length === 0) return;
      await trx
        .insertInto('recoveryCodes')
        .values(unique.map((codeHash) => ({ userId, codeHash, createdAt: at, usedAt: null })))
        .execute();
    });
  }

  // consume once: two parallel sign-ins with one recovery code get one success
  async consumeRecoveryCode(userId: string, hash: string, at: number): Promise<boolean> {
    const r = await this.db
      .updateTable('recoveryCodes')
      .set({ usedAt: at })
      .where('userId', '=', userId)
      .where('codeHash', '=', hash)
      .where('usedAt', 'is', null)
      .executeTakeFirst();
    return changed(r);
  }

  async countRecoveryCodes(userId: string): Promise<number> {
    const r = await this.db
      .selectFrom('recoveryCodes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('userId', '=', userId)
      .where('usedAt', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async deleteRecoveryCodes(userId: string): Promise<void> {
    await this.db.deleteFrom('recoveryCodes').where('userId', '=', userId).execute();
  }
}
