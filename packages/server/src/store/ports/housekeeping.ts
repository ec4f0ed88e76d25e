/**
 * Data lifecycle: what housekeeping may erase, one small batch at a time. Every target names rows that can
 * never be used again (spent, expired, ended); core/housekeeping.ts decides the cut-off times, this port only
 * deletes what lies before them.
 */

export type PruneTarget =
  /** the sealed successor pair on refresh tokens used before `before` (the grace window is over): set to null */
  | 'sealedSuccessors'
  /** refresh tokens used before `before` (past the window in which a replay still means theft) */
  | 'usedRefreshTokens'
  /** sessions revoked before `before`, with their refresh tokens and OAuth session rows */
  | 'revokedSessions'
  /** sessions last seen before `before` (idle-expired long ago, revoked or not), likewise */
  | 'idleSessions'
  /** MFA challenges (second-factor tokens, one-time codes) that expired before `before` */
  | 'mfaChallenges'
  /** password-reset links that expired before `before` */
  | 'passwordResets'
  /** OAuth authorization codes that expired before `before` */
  | 'oauthCodes'
  /** email-verification links that expired before `before` */
  | 'emailVerifications'
  /** email-change confirmation links that expired before `before` */
  | 'emailChanges'
  /** security events recorded before `before` */
  | 'events';

export interface PruneRange {
  /** the time column's upper bound, exclusive */
  before: number;
  /** an optional lower bound, inclusive: lets a caller skip rows it has already cleared */
  from?: number;
}

export interface HousekeepingStore {
  /**
   * One batch: at most `limit` rows of `target` in `range`, oldest first, in one short transaction; returns
   * how many. Nodes running the same batch at once never take the same rows (PostgreSQL and MariaDB skip
   * rows another batch holds; SQLite has one writer), so every node may run housekeeping.
   */
  pruneBatch(target: PruneTarget, range: PruneRange, limit: number): Promise<number>;
  /** gives freed space back where the database needs to be asked (SQLite: WAL checkpoint, incremental vacuum) */
  compact(): Promise<void>;
}
