import type { ClientRow, ClientStore } from '../ports/clients.js';
import { changed } from './tables.js';
import type { Db } from './tables.js';

export class SqlClients implements ClientStore {
  constructor(private readonly db: Db) {}

  async createClient(row: ClientRow): Promise<void> {
    await this.db.insertInto('clients').values(row).execute();
  }

  async getClient(id: string): Promise<ClientRow | undefined> {
    return this.db.selectFrom('clients').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async listClients(): Promise<ClientRow[]> {
    return this.db.selectFrom('clients').selectAll().orderBy('createdAt').orderBy('id').execute();
  }

  async deleteClient(id: string): Promise<boolean> {
    return changed(await this.db.deleteFrom('clients').where('id', '=', id).executeTakeFirst());
  }
}
