import { randomBytes } from 'node:crypto';
import type { Clock } from '../lib/clock.js';
import { randomId, safeEqual, sha256 } from './crypto.js';
import type { ClientRow, ClientStore } from '../store/ports/index.js';

/** Resource-server clients: the credentials `tessera clients create` prints and the feed and reports require. */
export class ClientService {
  constructor(
    private readonly store: ClientStore,
    private readonly clock: Clock,
  ) {}

  /**
   * The client these credentials prove, or undefined. The secret is compared even for an unknown (or
   * missing) id, so timing does not reveal which client ids exist; only SHA-256 of a secret is stored.
   */
  async authenticate(id: string | undefined, secret: string): Promise<ClientRow | undefined> {
    const client = id !== undefined ? await this.store.getClient(id) : undefined;
    const ok = safeEqual(client?.secretHash ?? sha256('no such client'), sha256(secret));
    return client && ok ? client : undefined;
  }

  /** A new client; its secret exists only in the answer. */
  async create(name: string): Promise<{ id: string; secret: string }> {
    const id = `rs_${randomId()}`;
    const secret = randomBytes(32).toString('base64url');
    await this.store.createClient({ id, name, secretHash: sha256(secret), createdAt: this.clock.now() });
    return { id, secret };
  }
}
