import type { SqlDialect } from '../dialects/dialect.js';
import type { PasswordResetRow, ResetStore } from '../ports/resets.js';
import type { Db } from './tables.js';

export class SqlResets implements ResetStore {
  constructor(
    private readonly db: Db,
    private readonly d: SqlDialect,
  ) {}

  async insertPasswordReset(row: PasswordResetRow): Promise<void> {
    await this.db.insertInto('passwordResets').values(row).execute();
  }

  async getPasswordReset(id: string): Promise<PasswordResetRow | undefined> {
    return this.db.selectFrom('passwordResets').selectAll().where('id', '=', id).executeTakeFirst();
  }

  // consume once: a reset link replayed (or clicked twice in parallel) changes the password at most once
  async consumePasswordReset(id: string, now: number): Promise<PasswordResetRow | undefined> {
    const guarded = (db: Db) =>
      db.updateTable('passwordResets').set({ usedAt: now }).where('id', '=', id).where('usedAt', 'is', null).where('expiresAt', '>', now);
    return this.d.updateReturning(this.db, {
      returning: (db) => guarded(db).returningAll().executeTakeFirst(),
      update: (db) => guarded(db).executeTakeFirstOrThrow(),
      read: (db) => this.getPasswordResetIn(db, id),
    });
  }

  private getPasswordResetIn(db: Db, id: string): Promise<PasswordResetRow | undefined> {
    return db.selectFrom('passwordResets').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async voidPasswordResets(userId: string, now: number): Promise<number> {
    const r = await this.db.updateTable('passwordResets').set({ usedAt: now }).where('userId', '=', userId).where('usedAt', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows);
  }
}
