/** The cursor-ordered revocation feed resource servers read from. */

export interface RevocationRow {
  cursor: number;
  sid: string | null;
  sub: string | null;
  revokedAt: number;
  /** after this time the entry is moot: every token it covers has expired */
  until: number;
}
export type NewRevocation = Omit<RevocationRow, 'cursor'>;

export interface RevocationStore {
  /**
   * Appends one entry and returns its cursor. Cursors increase, and a reader never sees cursor n+1 before
   * cursor n has committed (appends are serialized), so a reader that moves its `since` forward never
   * skips an entry.
   */
  appendRevocation(r: NewRevocation): Promise<number>;
  /** entries with cursor > since, ascending, at most `limit` */
  listRevocationsSince(since: number, limit: number): Promise<RevocationRow[]>;
  /** the newest cursor, 0 when the feed is empty */
  latestRevocationCursor(): Promise<number>;
  /** deletes entries with until < untilBefore, except the newest one so the latest cursor never goes back */
  pruneRevocations(untilBefore: number): Promise<number>;
}
