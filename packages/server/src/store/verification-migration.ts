/** Migration 0005: verified email addresses (store/migrations.ts lists it). */
import { sql, type Kysely, type Migration } from 'kysely';
import type { SchemaTypes } from './dialects/dialect.js';

/**
 * `users.email_verified_at` (null: never proven) and `users.legacy` (1: the account existed before email
 * verification, so it keeps signing in unverified — but, never verified, a reset reclaims it), plus the
 * single-use verification links (`email_verifications`, only SHA-256 of the secret stored, as reset links).
 */
export function emailVerification(t: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('users').addColumn('email_verified_at', t.time).execute();
      await db.schema.alterTable('users').addColumn('legacy', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      // every account that exists now was created without proof of its mailbox
      await sql`update users set legacy = 1`.execute(db);

      const links = t.createTable(db, 'email_verifications').addColumn('id', t.key, (c) => c.primaryKey());
      await t
        .reference(links, 'email_verifications', 'user_id', 'users.id', 'not null')
        .addColumn('email', t.key, (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('expires_at', t.time, (c) => c.notNull())
        .addColumn('used_at', t.time)
        .execute();
      await db.schema.createIndex('email_verifications_user_id').on('email_verifications').column('user_id').execute();
    },
  };
}
