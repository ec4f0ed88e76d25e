/**
 * 0007: indexes for housekeeping (core/housekeeping.ts). Each prune batch walks one time column oldest first
 * and stops after a batch, so none of them scans a table that only holds live rows.
 */
import type { Kysely, Migration } from 'kysely';

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
