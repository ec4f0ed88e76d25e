import type { SqlDialect } from '../dialects/dialect.js';
import type { PhoneStore, SmsPhoneRow } from '../ports/phones.js';
import { changed } from './tables.js';
import type { Db } from './tables.js';

export class SqlPhones implements PhoneStore {
  constructor(
    private readonly db: Db,
    private readonly d: SqlDialect,
  ) {}

  // A confirmed phone is never replaced by a new enrolment (it must be removed first): the replacement is a
  // guarded UPDATE, and an INSERT that loses to an existing row falls back to it once.
  async putSmsPhone(row: SmsPhoneRow): Promise<boolean> {
    const replacePending = async () => {
      const { userId, ...rest } = row;
      const r = await this.db.updateTable('mfaSms').set(rest).where('userId', '=', userId).where('confirmedAt', 'is', null).executeTakeFirstOrThrow();
      return changed(r);
    };
    if (await replacePending()) return true;
    try {
      await this.db.insertInto('mfaSms').values(row).execute();
      return true;
    } catch (err) {
      if (!this.d.isUniqueViolation(err)) throw err;
      return replacePending();
    }
  }

  async getSmsPhone(userId: string): Promise<SmsPhoneRow | undefined> {
    return this.db.selectFrom('mfaSms').selectAll().where('userId', '=', userId).executeTakeFirst();
  }

  // guarded increment, counted before each check: parallel guesses cannot exceed the attempt budget
  async incrementSmsAttempts(userId: string): Promise<number> {
    const bump = (db: Db) =>
      db.updateTable('mfaSms').set((eb) => ({ attempts: eb('attempts', '+', 1) })).where('userId', '=', userId).where('confirmedAt', 'is', null);
    const r = await this.d.updateReturning(this.db, {
      returning: (db) => bump(db).returning('attempts').executeTakeFirst(),
      update: (db) => bump(db).executeTakeFirstOrThrow(),
      read: (db) => db.selectFrom('mfaSms').select('attempts').where('userId', '=', userId).executeTakeFirst(),
    });
    return r?.attempts ?? 0;
  }

  // consume once: one enrolment code confirms one phone
  async confirmSmsPhone(userId: string, codeHash: string, at: number): Promise<boolean> {
    const r = await this.db
      .updateTable('mfaSms')
      .set({ confirmedAt: at, codeHash: null, codeExpiresAt: null })
      .where('userId', '=', userId)
      .where('confirmedAt', 'is', null)
      .where('codeHash', '=', codeHash)
      .where('codeExpiresAt', '>', at)
      .executeTakeFirst();
    return changed(r);
  }

  async deleteSmsPhone(userId: string): Promise<boolean> {
    return changed(await this.db.deleteFrom('mfaSms').where('userId', '=', userId).executeTakeFirst());
  }
}
