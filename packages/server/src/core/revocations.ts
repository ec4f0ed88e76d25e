import type { Clock } from '../lib/clock.js';
import type { RevocationRow, RevocationStore } from '../store/ports/index.js';
import type { SharedState } from '../state/types.js';

/**
 * Under the deployment's Redis prefix (state/connect.ts). A message on it is only a wake-up: every node
 * reads what it delivers from the database feed (core/feed-tail.ts).
 */
export const REVOCATION_CHANNEL = 'revocations';

export interface RevocationItem {
  cursor: number;
  sid?: string;
  sub?: string;
  revoked_at: string;
  until: string;
}

export function revocationToItem(r: RevocationRow): RevocationItem {
  return {
    cursor: r.cursor,
    ...(r.sid ? { sid: r.sid } : {}),
    ...(r.sub ? { sub: r.sub } : {}),
    revoked_at: new Date(r.revokedAt).toISOString(),
    until: new Date(r.until).toISOString(),
  };
}

/**
 * The cursor-ordered revocation feed. Every revocation is appended to the database, which is what every
 * stream delivers and what a resource server catches up from with `since`; a message on the shared state
 * only wakes the other nodes' feed tails (core/feed-tail.ts) sooner. An entry matters only while tokens it covers can still be alive: `until` is
 * the revocation time plus the access-token lifetime plus the verifiers' maximum clock leeway.
 */
export class RevocationFeed {
  constructor(
    private readonly store: RevocationStore,
    private readonly state: SharedState,
    private readonly clock: Clock,
    private readonly accessTtlSec: number,
  ) {}

  /** How long a revocation made at `at` matters: until every access token it covers has expired. */
  until(at: number): number {
    return at + (this.accessTtlSec + 60) * 1000;
  }

  /**
   * The wake-up for every node, sent only after the feed rows committed (the store writes them with the
   * session change, see SessionRevoker). Best effort: a node that misses it still reads the rows by cursor.
   */
  async announce(rows: RevocationRow[]): Promise<void> {
    for (const row of rows) await this.state.publish(REVOCATION_CHANNEL, JSON.stringify(revocationToItem(row)));
  }

  async since(cursor: number, limit = 1000): Promise<{ cursor: number; items: RevocationItem[] }> {
    const rows = await this.store.listRevocationsSince(cursor, limit);
    const now = this.clock.now();
    const items = rows.filter((r) => r.until > now).map(revocationToItem);
    const last = rows.at(-1)?.cursor ?? Math.max(cursor, 0);
    // An empty page still reports the head, so a fresh client starts from now instead of re-reading history.
    const head = rows.length === 0 ? Math.max(last, await this.store.latestRevocationCursor()) : last;
    return { cursor: head, items };
  }
}
