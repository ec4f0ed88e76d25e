/** Migration 0006: the account lifecycle (store/migrations.ts lists it). */
import type { Kysely, Migration } from 'kysely';
import type { SchemaTypes } from './dialects/dialect.js';

/**
 * Change of email, disabled accounts and the admin list's order: `users.disabled_at` (null while the account may sign in) and the
 * pending email changes, one row per confirmation link mailed to the new address, stored hashed like reset
 * links and deleted with the user.
 */
export function accountLifecycle(t: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('users').addColumn('disabled_at', t.time).execute();
      // the admin list pages in (created_at, id) order: one index range scan per page
      await db.schema.createIndex('users_created_at').on('users').columns(['created_at', 'id']).execute();
      const changes = t.createTable(db, 'email_changes').addColumn('id', t.key, (c) => c.primaryKey());
      await t
        .reference(changes, 'email_changes', 'user_id', 'users.id', 'not null')
        .addColumn('new_email', t.key, (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('expires_at', t.time, (c) => c.notNull())
        .addColumn('used_at', t.time)
        .execute();
      await db.schema.createIndex('email_changes_user_id').on('email_changes').column('user_id').execute();
    },
  };
}
