import type { SqlDialect } from '../dialects/dialect.js';
import type { PasswordResetRow, ResetStore } from '../ports/resets.js';
import { SingleUseLinks } from './links.js';
import type { Db } from './tables.js';

export class SqlResets implements ResetStore {
  private readonly links: SingleUseLinks<'passwordResets'>;

  constructor(
    private readonly db: Db,
    d: SqlDialect,
  ) {
    this.links = new SingleUseLinks(db, d, 'passwordResets');
  }

  insertPasswordReset(row: PasswordResetRow): Promise<void> {
    return this.links.insert(row);
  }

  getPasswordReset(id: string): Promise<PasswordResetRow | undefined> {
    return this.links.get(id);
  }

  // consume once: a reset link replayed (or clicked twice in parallel) changes the password at most once
  consumePasswordReset(id: string, now: number): Promise<PasswordResetRow | undefined> {
    return this.links.consume(id, now);
  }

  async voidPasswordResets(userId: string, now: number): Promise<number> {
    const r = await this.db.updateTable('passwordResets').set({ usedAt: now }).where('userId', '=', userId).where('usedAt', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows);
  }
}
