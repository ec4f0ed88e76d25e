import type { SqlDialect } from '../dialects/dialect.js';
import type { TotpRow, TotpStore } from '../ports/totp.js';
import { changed } from './tables.js';
import type { Db } from './tables.js';

export class SqlTotp implements TotpStore {
  constructor(
    private readonly db: Db,
    private readonly d: SqlDialect,
  ) {}

  // insert or replace, without a dialect-specific upsert: a lost insert race finds the row and replaces it
  async putTotp(row: TotpRow): Promise<void> {
    const replace = async () => {
      const { userId, ...rest } = row;
      return changed(await this.db.updateTable('mfaTotp').set(rest).where('userId', '=', userId).executeTakeFirstOrThrow());
    };
    if (await replace()) return;
    try {
      await this.db.insertInto('mfaTotp').values(row).execute();
    } catch (err) {
      if (!this.d.isUniqueViolation(err) || !(await replace())) throw err;
    }
  }

  async getTotp(userId: string): Promise<TotpRow | undefined> {
    return this.db.selectFrom('mfaTotp').selectAll().where('userId', '=', userId).executeTakeFirst();
  }

  async confirmTotp(userId: string, at: number, step: number): Promise<boolean> {
    const r = await this.db
      .updateTable('mfaTotp')
      .set({ confirmedAt: at, lastStep: step })
      .where('userId', '=', userId)
      .where('confirmedAt', 'is', null)
      .where((eb) => eb.or([eb('lastStep', 'is', null), eb('lastStep', '<', step)]))
      .executeTakeFirst();
    return changed(r);
  }

  async deleteTotp(userId: string): Promise<void> {
    await this.db.deleteFrom('mfaTotp').where('userId', '=', userId).execute();
  }

  // consume once: a code observed by an attacker cannot be replayed within its time step
  async useTotpStep(userId: string, step: number): Promise<boolean> {
    const r = await this.db
      .updateTable('mfaTotp')
      .set({ lastStep: step })
      .where('userId', '=', userId)
      .where((eb) => eb.or([eb('lastStep', 'is', null), eb('lastStep', '<', step)]))
      .executeTakeFirst();
    return changed(r);
  }
}
