/** Lifecycle and housekeeping of the database behind the other ports. */

export type DialectName = 'sqlite' | 'postgres' | 'mysql';

export interface MaintenanceStore {
  readonly dialect: DialectName;
  /** brings the schema to the latest version; idempotent and safe to race across processes */
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** housekeeping: deletes MFA challenges and password resets that expired before `before`; returns how many */
  pruneExpired(before: number): Promise<number>;
  /**
   * true when `err` means the database is unreachable (connection refused or lost, server shutting down,
   * too many connections): the request may succeed later, so the HTTP edge answers 503, never 500
   */
  isUnavailable(err: unknown): boolean;
}
