import type { SqlDialect } from '../dialects/dialect.js';
import type { EmailChangeRow, LifecycleStore, UserFacts } from '../ports/lifecycle.js';
import type { SessionRow } from '../ports/sessions.js';
import { SingleUseLinks } from './links.js';
import { changed, events, sessions } from './tables.js';
import type { Db } from './tables.js';

const EMAIL_INDEX = { name: 'users_email_unique', columns: 'users.email' };

/** the tables whose rows name a user by `user_id` and go with it (children before the users row) */
const USER_TABLES = [
  'passwordResets',
  'emailChanges',
  'mfaTotp',
  'recoveryCodes',
  'webauthnCredentials',
  'mfaChallenges',
  'mfaSms',
  'oauthCodes',
  'oauthConsents',
  'oauthSessions',
] as const;

export class SqlLifecycle implements LifecycleStore {
  private readonly links: SingleUseLinks<'emailChanges'>;

  constructor(
    private readonly db: Db,
    private readonly d: SqlDialect,
  ) {
    this.links = new SingleUseLinks(db, d, 'emailChanges');
  }

  insertEmailChange(row: EmailChangeRow): Promise<void> {
    return this.links.insert(row);
  }

  getEmailChange(id: string): Promise<EmailChangeRow | undefined> {
    return this.links.get(id);
  }

  // consume once: a confirmation link clicked twice (or replayed) changes the email at most once
  consumeEmailChange(id: string, now: number): Promise<EmailChangeRow | undefined> {
    return this.links.consume(id, now);
  }

  async setEmail(userId: string, email: string): Promise<boolean> {
    try {
      return changed(await this.db.updateTable('users').set({ email }).where('id', '=', userId).executeTakeFirst());
    } catch (err) {
      // the address was taken meanwhile: the unique index decides, so two confirmations cannot both win it
      if (this.d.isUniqueViolation(err, EMAIL_INDEX)) return false;
      throw err;
    }
  }

  async setDisabledAt(userId: string, at: number | null): Promise<void> {
    await this.db.updateTable('users').set({ disabledAt: at }).where('id', '=', userId).execute();
  }

  async eraseUser(userId: string, personalFields: readonly string[]): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const sessionIds = trx.selectFrom('sessions').select('id').where('userId', '=', userId);
      await trx.deleteFrom('refreshTokens').where('sessionId', 'in', sessionIds).execute();
      await trx.deleteFrom('sessions').where('userId', '=', userId).execute();
      for (const table of USER_TABLES) await trx.deleteFrom(table).where('userId', '=', userId).execute();
      await pseudonymiseEvents(trx, userId, personalFields);
      return changed(await trx.deleteFrom('users').where('id', '=', userId).executeTakeFirst());
    });
  }

  async listSessionsOfUser(userId: string): Promise<SessionRow[]> {
    const rows = await this.db.selectFrom('sessions').selectAll().where('userId', '=', userId).orderBy('createdAt', 'desc').execute();
    return rows.map((r) => sessions.fromRow(r));
  }

  async userFacts(userIds: readonly string[]): Promise<Map<string, UserFacts>> {
    const out = new Map<string, UserFacts>();
    if (userIds.length === 0) return out;
    const ids = [...userIds];
    for (const id of ids) out.set(id, { lastSignInAt: null, mfa: false });
    const signIns = await this.db.selectFrom('sessions').select((eb) => ['userId', eb.fn.max('createdAt').as('last')]).where('userId', 'in', ids).groupBy('userId').execute();
    for (const r of signIns) out.get(r.userId)!.lastSignInAt = r.last === null ? null : Number(r.last);
    const factors = await this.db
      .selectFrom('mfaTotp').select('userId').where('userId', 'in', ids).where('confirmedAt', 'is not', null)
      .union(this.db.selectFrom('webauthnCredentials').select('userId').where('userId', 'in', ids))
      .union(this.db.selectFrom('mfaSms').select('userId').where('userId', 'in', ids).where('confirmedAt', 'is not', null))
      .execute();
    for (const r of factors) out.get(r.userId)!.mfa = true;
    return out;
  }
}

/** the events stay for the security log, without the IP and the data fields that describe the person */
async function pseudonymiseEvents(trx: Db, userId: string, personalFields: readonly string[]): Promise<void> {
  await trx.updateTable('events').set({ ip: null }).where('userId', '=', userId).execute();
  const rows = await trx.selectFrom('events').selectAll().where('userId', '=', userId).execute();
  for (const stored of rows) {
    const data = events.fromRow(stored).data;
    const kept = Object.fromEntries(Object.entries(data).filter(([k]) => !personalFields.includes(k)));
    if (Object.keys(kept).length !== Object.keys(data).length) {
      await trx.updateTable('events').set({ data: JSON.stringify(kept) }).where('id', '=', stored.id).execute();
    }
  }
}
