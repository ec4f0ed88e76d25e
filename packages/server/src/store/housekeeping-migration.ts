/**
 * 0007: indexes for housekeeping (core/housekeeping.ts). Each prune batch walks one time column oldest first
 * and stops after a batch, so none of them scans a table that only holds live rows.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { SchemaTypes } from './dialects/dialect.js';

export const housekeepingIndexes: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.createIndex('refresh_tokens_used_at').on('refresh_tokens').column('used_at').execute();
    await db.schema.createIndex('sessions_revoked_at').on('sessions').column('revoked_at').execute();
    await db.schema.createIndex('sessions_last_seen_at').on('sessions').column('last_seen_at').execute();
    await db.schema.createIndex('password_resets_expires_at').on('password_resets').column('expires_at').execute();
    await db.schema.createIndex('oauth_codes_expires_at').on('oauth_codes').column('expires_at').execute();
    await db.schema.createIndex('events_created_at').on('events').column('created_at').execute();
  },
};

/**
 * 0008: the two housekeeping indexes on columns that are null for every live row (a session's revoked_at, a
 * refresh token's used_at) keep only the non-null rows. Housekeeping only ever asks for a range of set values,
 * which the partial index answers; every sign-in and refresh no longer writes an index entry (and its page)
 * for a row that is not yet prunable. MySQL/MariaDB have no partial indexes and keep 0007's.
 */
export function partialHousekeepingIndexes(t: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>) {
      if (!t.partialIndexes) return;
      for (const [index, table, column] of [['sessions_revoked_at', 'sessions', 'revoked_at'], ['refresh_tokens_used_at', 'refresh_tokens', 'used_at']] as const) {
        await db.schema.dropIndex(index).execute();
        await db.schema.createIndex(index).on(table).column(column).where(sql.ref(column), 'is not', null).execute();
      }
    },
  };
}
