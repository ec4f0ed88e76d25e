import type { SqlDialect } from '../dialects/dialect.js';
import type { ChallengeStore, MfaChallengeRow } from '../ports/challenges.js';
import { challenges } from './tables.js';
import type { Db } from './tables.js';

export class SqlChallenges implements ChallengeStore {
  constructor(
    private readonly db: Db,
    private readonly d: SqlDialect,
  ) {}

  async insertMfaChallenge(row: MfaChallengeRow): Promise<void> {
    await this.db.insertInto('mfaChallenges').values(challenges.toRow(row)).execute();
  }

  async getMfaChallenge(id: string): Promise<MfaChallengeRow | undefined> {
    return this.read(this.db, id);
  }

  async setMfaChallengeChallenge(id: string, challenge: string): Promise<void> {
    await this.db.updateTable('mfaChallenges').set({ challenge }).where('id', '=', id).execute();
  }

  // consume once: one mfa_token (or WebAuthn ceremony) completes one sign-in, even when replayed in parallel
  async consumeMfaChallenge(id: string, now: number): Promise<MfaChallengeRow | undefined> {
    const guarded = (db: Db) =>
      db.updateTable('mfaChallenges').set({ usedAt: now }).where('id', '=', id).where('usedAt', 'is', null).where('expiresAt', '>', now);
    const r = await this.d.updateReturning(this.db, {
      returning: async (db) => {
        const row = await guarded(db).returningAll().executeTakeFirst();
        return row && challenges.fromRow(row);
      },
      update: (db) => guarded(db).executeTakeFirstOrThrow(),
      read: (db) => this.read(db, id),
    });
    return r;
  }

  // guarded increment: a burst of parallel wrong guesses is counted in full, never lost to a race
  async incrementMfaFailures(id: string): Promise<number> {
    const bump = (db: Db) => db.updateTable('mfaChallenges').set((eb) => ({ failures: eb('failures', '+', 1) })).where('id', '=', id);
    const r = await this.d.updateReturning(this.db, {
      returning: (db) => bump(db).returning('failures').executeTakeFirst(),
      update: (db) => bump(db).executeTakeFirstOrThrow(),
      read: (db) => db.selectFrom('mfaChallenges').select('failures').where('id', '=', id).executeTakeFirst(),
    });
    return r?.failures ?? 0;
  }

  private async read(db: Db, id: string): Promise<MfaChallengeRow | undefined> {
    const r = await db.selectFrom('mfaChallenges').selectAll().where('id', '=', id).executeTakeFirst();
    return r && challenges.fromRow(r);
  }
}
