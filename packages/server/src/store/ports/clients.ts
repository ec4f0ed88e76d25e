/** Resource-server clients. */

export interface ClientRow {
  id: string;
  name: string;
  secretHash: string;
  createdAt: number;
}

export interface ClientStore {
  createClient(row: ClientRow): Promise<void>;
  getClient(id: string): Promise<ClientRow | undefined>;
  /** every client, oldest first */
  listClients(): Promise<ClientRow[]>;
  /** true when this call deleted it */
  deleteClient(id: string): Promise<boolean>;
}
