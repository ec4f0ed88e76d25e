import type { SqlDialect } from '../dialects/dialect.js';
import type { EmailVerificationRow, VerificationStore } from '../ports/verifications.js';
import type { Db } from './tables.js';

export class SqlVerifications implements VerificationStore {
  constructor(
    private readonly db: Db,
    private readonly d: SqlDialect,
  ) {}

  async insertEmailVerification(row: EmailVerificationRow): Promise<void> {
    await this.db.insertInto('emailVerifications').values(row).execute();
  }

  getEmailVerification(id: string): Promise<EmailVerificationRow | undefined> {
    return this.getIn(this.db, id);
  }

  // consume once: a link clicked twice (or replayed from a forwarded mail) verifies at most once
  async consumeEmailVerification(id: string, now: number): Promise<EmailVerificationRow | undefined> {
    const guarded = (db: Db) =>
      db.updateTable('emailVerifications').set({ usedAt: now }).where('id', '=', id).where('usedAt', 'is', null).where('expiresAt', '>', now);
    return this.d.updateReturning(this.db, {
      returning: (db) => guarded(db).returningAll().executeTakeFirst(),
      update: (db) => guarded(db).executeTakeFirstOrThrow(),
      read: (db) => this.getIn(db, id),
    });
  }

  private getIn(db: Db, id: string): Promise<EmailVerificationRow | undefined> {
    return db.selectFrom('emailVerifications').selectAll().where('id', '=', id).executeTakeFirst();
  }
}
