import type { WebauthnCredentialRow, WebauthnStore } from '../ports/webauthn.js';
import { changed, webauthn } from './tables.js';
import type { Db } from './tables.js';

export class SqlWebauthn implements WebauthnStore {
  constructor(private readonly db: Db) {}

  async insertWebauthnCredential(row: WebauthnCredentialRow): Promise<void> {
    await this.db.insertInto('webauthnCredentials').values(webauthn.toRow(row)).execute();
  }

  async getWebauthnCredential(id: string): Promise<WebauthnCredentialRow | undefined> {
    const r = await this.db.selectFrom('webauthnCredentials').selectAll().where('id', '=', id).executeTakeFirst();
    return r && webauthn.fromRow(r);
  }

  async listWebauthnCredentials(userId: string): Promise<WebauthnCredentialRow[]> {
    const rows = await this.db.selectFrom('webauthnCredentials').selectAll().where('userId', '=', userId).orderBy('createdAt').orderBy('id').execute();
    return rows.map((r) => webauthn.fromRow(r));
  }

  // a cloned authenticator replays an old counter: only a strictly larger one (or 0 → 0) is accepted
  async updateWebauthnCounter(id: string, counter: number, usedAt: number): Promise<boolean> {
    const r = await this.db
      .updateTable('webauthnCredentials')
      .set({ counter, lastUsedAt: usedAt })
      .where('id', '=', id)
      .where('counter', counter === 0 ? '=' : '<', counter)
      .executeTakeFirst();
    return changed(r);
  }

  async deleteWebauthnCredential(userId: string, id: string): Promise<boolean> {
    return changed(await this.db.deleteFrom('webauthnCredentials').where('id', '=', id).where('userId', '=', userId).executeTakeFirst());
  }
}
