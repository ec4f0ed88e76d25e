/**
 * One schema for every dialect, as in-code Kysely migrations (no migration folder to ship). Column types,
 * auto-increment keys, foreign keys and table options come from the dialect (dialects/*.ts); on SQLite and
 * PostgreSQL they are exactly the DDL these migrations have always produced. An applied migration is never
 * changed: a schema change is a new entry at the end of `migrationProvider`.
 */
import type { CreateTableBuilder, Kysely, Migration, MigrationProvider } from 'kysely';
import type { SchemaTypes, SqlDialect } from './dialects/dialect.js';
import { housekeepingIndexes, partialHousekeepingIndexes } from './housekeeping-migration.js';
import { accountLifecycle } from './lifecycle-migration.js';
import { oauthProvider } from './oauth-migration.js';
import { emailVerification } from './verification-migration.js';

type Table = CreateTableBuilder<string, string>;

function identity(t: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await t
        .createTable(db, 'users')
        .addColumn('id', t.key, (c) => c.primaryKey())
        .addColumn('email', t.key, (c) => c.notNull())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('is_admin', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('password_reset_required', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', t.time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('users_email_unique').unique().on('users').column('email').execute();

      const sessions: Table = t.createTable(db, 'sessions').addColumn('id', t.key, (c) => c.primaryKey());
      await t
        .reference(sessions, 'sessions', 'user_id', 'users.id', 'not null')
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('last_seen_at', t.time, (c) => c.notNull())
        .addColumn('expires_at', t.time, (c) => c.notNull())
        .addColumn('ip', 'text')
        .addColumn('geo', 'text')
        .addColumn('user_agent', 'text')
        .addColumn('amr', 'text', (c) => c.notNull())
        .addColumn('auth_time', t.time, (c) => c.notNull())
        .addColumn('dpop_jkt', 'text')
        .addColumn('transport', 'text', (c) => c.notNull())
        .addColumn('revoked_at', t.time)
        .addColumn('revoke_reason', 'text')
        .execute();
      await db.schema.createIndex('sessions_user_id').on('sessions').columns(['user_id', 'created_at']).execute();

      const refresh: Table = t.createTable(db, 'refresh_tokens').addColumn('id', t.key, (c) => c.primaryKey());
      await t
        .reference(refresh, 'refresh_tokens', 'session_id', 'sessions.id', 'not null')
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('parent_id', t.key)
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('expires_at', t.time, (c) => c.notNull())
        .addColumn('used_at', t.time)
        .addColumn('used_by', 'text')
        .addColumn('successor_id', t.key)
        .addColumn('successor_sealed', 'text')
        .execute();
      await db.schema.createIndex('refresh_tokens_session_id').on('refresh_tokens').column('session_id').execute();
    },
  };
}

function keysAndClients(t: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await t
        .createTable(db, 'signing_keys')
        .addColumn('kid', t.key, (c) => c.primaryKey())
        .addColumn('alg', 'text', (c) => c.notNull())
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('private_sealed', 'text', (c) => c.notNull())
        .addColumn('state', t.key, (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('signing_keys_state').on('signing_keys').column('state').execute();

      await t
        .createTable(db, 'clients')
        .addColumn('id', t.key, (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .execute();
    },
  };
}

function logs(t: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // no foreign keys: the security log outlives the users and sessions it mentions
      await t
        .serial(t.createTable(db, 'events'), 'id')
        .addColumn('user_id', t.key)
        .addColumn('session_id', t.key)
        .addColumn('type', t.key, (c) => c.notNull())
        .addColumn('ip', 'text')
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('events_user_id').on('events').columns(['user_id', 'id']).execute();
      await db.schema.createIndex('events_type').on('events').columns(['type', 'id']).execute();

      await t
        .serial(t.createTable(db, 'revocations'), 'cursor')
        .addColumn('sid', t.key)
        .addColumn('sub', t.key)
        .addColumn('revoked_at', t.time, (c) => c.notNull())
        .addColumn('until', t.time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('revocations_until').on('revocations').column('until').execute();

      const resets: Table = t.createTable(db, 'password_resets').addColumn('id', t.key, (c) => c.primaryKey());
      await t
        .reference(resets, 'password_resets', 'user_id', 'users.id', 'not null')
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('expires_at', t.time, (c) => c.notNull())
        .addColumn('used_at', t.time)
        .execute();
      await db.schema.createIndex('password_resets_user_id').on('password_resets').column('user_id').execute();
    },
  };
}

function factors(t: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await t
        .reference(t.createTable(db, 'mfa_totp'), 'mfa_totp', 'user_id', 'users.id', 'primary key')
        .addColumn('secret_sealed', 'text', (c) => c.notNull())
        .addColumn('confirmed_at', t.time)
        .addColumn('last_step', t.time)
        .addColumn('created_at', t.time, (c) => c.notNull())
        .execute();

      await t
        .reference(t.createTable(db, 'recovery_codes'), 'recovery_codes', 'user_id', 'users.id', 'not null')
        .addColumn('code_hash', t.key, (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('used_at', t.time)
        .addPrimaryKeyConstraint('recovery_codes_pk', ['user_id', 'code_hash'])
        .execute();

      const creds: Table = t.createTable(db, 'webauthn_credentials').addColumn('id', t.longKey, (c) => c.primaryKey());
      await t
        .reference(creds, 'webauthn_credentials', 'user_id', 'users.id', 'not null')
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('counter', t.time, (c) => c.notNull().defaultTo(0))
        .addColumn('transports', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('last_used_at', t.time)
        .execute();
      await db.schema.createIndex('webauthn_credentials_user_id').on('webauthn_credentials').column('user_id').execute();

      const challenges: Table = t.createTable(db, 'mfa_challenges').addColumn('id', t.key, (c) => c.primaryKey());
      await t
        .reference(challenges, 'mfa_challenges', 'user_id', 'users.id', 'null')
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('challenge', 'text')
        .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('expires_at', t.time, (c) => c.notNull())
        .addColumn('used_at', t.time)
        .addColumn('context', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('mfa_challenges_user_id').on('mfa_challenges').column('user_id').execute();
      await db.schema.createIndex('mfa_challenges_expires_at').on('mfa_challenges').column('expires_at').execute();
    },
  };
}

function initial(t: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>) {
      for (const part of [identity(t), keysAndClients(t), logs(t), factors(t)]) await part.up(db);
    },
  };
}

/** SMS one-time codes: one phone per user, sealed at rest; the pending enrolment code lives on the row. */
function mfaSms(t: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await t
        .reference(t.createTable(db, 'mfa_sms'), 'mfa_sms', 'user_id', 'users.id', 'primary key')
        .addColumn('phone_sealed', 'text', (c) => c.notNull())
        .addColumn('phone_masked', 'text', (c) => c.notNull())
        .addColumn('confirmed_at', t.time)
        .addColumn('code_hash', 'text')
        .addColumn('code_expires_at', t.time)
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', t.time, (c) => c.notNull())
        .execute();
    },
  };
}

/**
 * The key-encryption key's check value (one row): a node verifies its key against it before migrating, so a
 * node started with the wrong or a freshly generated key refuses to start instead of sealing with it.
 */
function kekCheck(t: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await t
        .createTable(db, 'kek_check')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .execute();
    },
  };
}

export function migrationProvider(dialect: SqlDialect): MigrationProvider {
  const t = dialect.schema;
  return { getMigrations: async () => ({ '0001_initial': initial(t), '0002_mfa_sms': mfaSms(t), '0003_kek_check': kekCheck(t), '0004_oauth': oauthProvider(t), '0005_email_verification': emailVerification(t), '0006_account_lifecycle': accountLifecycle(t), '0007_housekeeping_indexes': housekeepingIndexes, '0008_partial_housekeeping_indexes': partialHousekeepingIndexes(t) }) };
}

/** brings the database to the latest schema; a no-op when it is there already */
export async function migrateToLatest(db: Kysely<unknown>, dialect: SqlDialect): Promise<void> {
  await dialect.migrate(db, migrationProvider(dialect));
}
