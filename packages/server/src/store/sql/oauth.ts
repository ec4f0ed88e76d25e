/**
 * The OpenID Connect provider's storage (ports/oauth.ts). Consume-once, the code's session and the delivery
 * claims are guarded UPDATEs (the dialect supplies RETURNING or its replacement), so two racers never both win.
 */
import type { SqlDialect } from '../dialects/dialect.js';
import type { AuthCodeRow, ConsentRow, IdTokenKeyRow, LogoutDeliveryRow, OAuthClientRow, OAuthSessionRow, OAuthStore } from '../ports/oauth.js';
import { changed, oauthClients, oauthCodes } from './tables.js';
import type { Db } from './tables.js';

export class SqlOAuth implements OAuthStore {
  constructor(
    private readonly db: Db,
    private readonly d: SqlDialect,
  ) {}

  async createOAuthClient(row: OAuthClientRow): Promise<void> {
    await this.db.insertInto('oauthClients').values(oauthClients.toRow(row)).execute();
  }

  async getOAuthClient(id: string): Promise<OAuthClientRow | undefined> {
    const r = await this.db.selectFrom('oauthClients').selectAll().where('id', '=', id).executeTakeFirst();
    return r && oauthClients.fromRow(r);
  }

  async listOAuthClients(): Promise<OAuthClientRow[]> {
    return (await this.db.selectFrom('oauthClients').selectAll().orderBy('createdAt').orderBy('id').execute()).map((r) => oauthClients.fromRow(r));
  }

  async getOAuthClientByAudience(audience: string): Promise<OAuthClientRow | undefined> {
    const r = await this.db.selectFrom('oauthClients').selectAll().where('audience', '=', audience).where('type', '=', 'resource').executeTakeFirst();
    return r && oauthClients.fromRow(r);
  }

  async deleteOAuthClient(id: string): Promise<boolean> {
    return changed(await this.db.deleteFrom('oauthClients').where('id', '=', id).executeTakeFirst());
  }

  async insertCode(row: AuthCodeRow): Promise<void> {
    await this.db.insertInto('oauthCodes').values(oauthCodes.toRow(row)).execute();
  }

  async getCode(id: string): Promise<AuthCodeRow | undefined> {
    return this.readCode(this.db, id);
  }

  // consume once: one authorization code yields one token response, even when replayed in parallel
  async consumeCode(id: string, now: number): Promise<AuthCodeRow | undefined> {
    const guarded = (db: Db) => db.updateTable('oauthCodes').set({ usedAt: now }).where('id', '=', id).where('usedAt', 'is', null);
    return this.d.updateReturning(this.db, {
      returning: async (db) => {
        const row = await guarded(db).returningAll().executeTakeFirst();
        return row && oauthCodes.fromRow(row);
      },
      update: (db) => guarded(db).executeTakeFirstOrThrow(),
      read: (db) => this.readCode(db, id),
    });
  }

  async setCodeSession(id: string, sessionId: string): Promise<boolean> {
    return changed(await this.db.updateTable('oauthCodes').set({ sessionId }).where('id', '=', id).where('sessionId', 'is', null).executeTakeFirst());
  }

  async putConsent(row: ConsentRow): Promise<void> {
    // delete + insert in one transaction: portable where upserts are spelled differently per dialect
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('oauthConsents').where('userId', '=', row.userId).where('clientId', '=', row.clientId).execute();
      await trx.insertInto('oauthConsents').values(row).execute();
    });
  }

  async getConsent(userId: string, clientId: string): Promise<ConsentRow | undefined> {
    return this.db.selectFrom('oauthConsents').selectAll().where('userId', '=', userId).where('clientId', '=', clientId).executeTakeFirst();
  }

  async listConsents(userId: string): Promise<ConsentRow[]> {
    return this.db.selectFrom('oauthConsents').selectAll().where('userId', '=', userId).orderBy('createdAt').orderBy('clientId').execute();
  }

  async deleteConsent(userId: string, clientId: string): Promise<boolean> {
    return changed(await this.db.deleteFrom('oauthConsents').where('userId', '=', userId).where('clientId', '=', clientId).executeTakeFirst());
  }

  async insertOAuthSession(row: OAuthSessionRow): Promise<void> {
    await this.db.insertInto('oauthSessions').values(row).execute();
  }

  async getOAuthSession(sessionId: string): Promise<OAuthSessionRow | undefined> {
    return this.db.selectFrom('oauthSessions').selectAll().where('sessionId', '=', sessionId).executeTakeFirst();
  }

  async listOAuthSessionsOfUser(userId: string): Promise<OAuthSessionRow[]> {
    return this.db.selectFrom('oauthSessions').selectAll().where('userId', '=', userId).orderBy('createdAt').execute();
  }

  async listIdKeys(): Promise<IdTokenKeyRow[]> {
    return this.db.selectFrom('oauthIdKeys').selectAll().where('state', '!=', 'retired').orderBy('createdAt').execute();
  }

  // one rotation at a time, on any node: two racing rotations would each shift a different snapshot of states
  // (the signing-key lock: ID-token and access-token key rotations are rare and may wait for each other)
  async rotateIdKeys(next: IdTokenKeyRow): Promise<void> {
    await this.d.exclusive(this.db, 'signing_keys', (trx) => shift(trx, next));
  }

  // racing first starts: the check runs under the lock, so nodes never rotate past each other's keys
  async completeIdKeys(next: IdTokenKeyRow): Promise<boolean> {
    return this.d.exclusive(this.db, 'signing_keys', async (trx) => {
      const states = (await trx.selectFrom('oauthIdKeys').select('state').where('state', 'in', ['current', 'next']).execute()).map((r) => r.state);
      if (states.includes('current') && states.includes('next')) return false;
      await shift(trx, next);
      return true;
    });
  }

  async enqueueLogout(row: LogoutDeliveryRow): Promise<void> {
    try {
      await this.db.insertInto('oauthLogoutDeliveries').values(row).execute();
    } catch (err) {
      if (!this.d.isUniqueViolation(err)) throw err;
    }
  }

  async dueLogouts(now: number, limit: number): Promise<LogoutDeliveryRow[]> {
    return this.db
      .selectFrom('oauthLogoutDeliveries')
      .selectAll()
      .where('deliveredAt', 'is', null)
      .where('failedAt', 'is', null)
      .where('nextAttemptAt', '<=', now)
      .orderBy('nextAttemptAt')
      .limit(limit)
      .execute();
  }

  // one node per attempt: the claim is guarded on the attempt it read
  async claimLogout(id: string, attempts: number, nextAttemptAt: number, leaseUntil: number): Promise<boolean> {
    const r = await this.db
      .updateTable('oauthLogoutDeliveries')
      .set({ attempts: attempts + 1, nextAttemptAt: leaseUntil })
      .where('id', '=', id)
      .where('attempts', '=', attempts)
      .where('nextAttemptAt', '=', nextAttemptAt)
      .where('deliveredAt', 'is', null)
      .executeTakeFirst();
    return changed(r);
  }

  async finishLogout(id: string, outcome: { deliveredAt?: number; failedAt?: number; nextAttemptAt?: number }): Promise<void> {
    await this.db.updateTable('oauthLogoutDeliveries').set(outcome).where('id', '=', id).execute();
  }

  async listLogouts(sessionId: string): Promise<LogoutDeliveryRow[]> {
    return this.db.selectFrom('oauthLogoutDeliveries').selectAll().where('sessionId', '=', sessionId).orderBy('createdAt').execute();
  }

  async getFeedCursor(): Promise<number | undefined> {
    const r = await this.db.selectFrom('oauthBackchannelCursor').select('cursor').where('id', '=', 1).executeTakeFirst();
    return r ? Number(r.cursor) : undefined;
  }

  async advanceFeedCursor(from: number | undefined, to: number): Promise<boolean> {
    if (from === undefined) {
      try {
        await this.db.insertInto('oauthBackchannelCursor').values({ id: 1, cursor: to }).execute();
        return true;
      } catch (err) {
        if (this.d.isUniqueViolation(err)) return false;
        throw err;
      }
    }
    const r = await this.db.updateTable('oauthBackchannelCursor').set({ cursor: to }).where('id', '=', 1).where('cursor', '=', from).executeTakeFirst();
    return changed(r);
  }

  private async readCode(db: Db, id: string): Promise<AuthCodeRow | undefined> {
    const r = await db.selectFrom('oauthCodes').selectAll().where('id', '=', id).executeTakeFirst();
    return r && oauthCodes.fromRow(r);
  }
}

/** next → current → previous → retired, then the new `next` */
async function shift(trx: Db, next: IdTokenKeyRow): Promise<void> {
  await trx.updateTable('oauthIdKeys').set({ state: 'retired' }).where('state', '=', 'previous').execute();
  await trx.updateTable('oauthIdKeys').set({ state: 'previous' }).where('state', '=', 'current').execute();
  await trx.updateTable('oauthIdKeys').set({ state: 'current' }).where('state', '=', 'next').execute();
  await trx.insertInto('oauthIdKeys').values(next).execute();
}
