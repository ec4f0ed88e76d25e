/**
 * One schema for SQLite and PostgreSQL, as in-code Kysely migrations (no migration folder to ship).
 * Only the auto-increment columns and the time type differ between the dialects.
 */
import { Migrator, sql } from 'kysely';
import type { ColumnDataType, Kysely, Migration, MigrationProvider } from 'kysely';
import type { Dialect } from './schema.js';

function initial(dialect: Dialect): Migration {
  const time: ColumnDataType = dialect === 'sqlite' ? 'integer' : 'bigint';
  const serial = (db: Kysely<unknown>, table: string, column: string) =>
    dialect === 'sqlite'
      ? db.schema.createTable(table).addColumn(column, 'integer', (c) => c.primaryKey().autoIncrement())
      : db.schema.createTable(table).addColumn(column, 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity());

  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('is_admin', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('password_reset_required', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('users_email_unique').unique().on('users').column('email').execute();

      await db.schema
        .createTable('sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('last_seen_at', time, (c) => c.notNull())
        .addColumn('expires_at', time, (c) => c.notNull())
        .addColumn('ip', 'text')
        .addColumn('geo', 'text')
        .addColumn('user_agent', 'text')
        .addColumn('amr', 'text', (c) => c.notNull())
        .addColumn('auth_time', time, (c) => c.notNull())
        .addColumn('dpop_jkt', 'text')
        .addColumn('transport', 'text', (c) => c.notNull())
        .addColumn('revoked_at', time)
        .addColumn('revoke_reason', 'text')
        .execute();
      await db.schema.createIndex('sessions_user_id').on('sessions').columns(['user_id', 'created_at']).execute();

      await db.schema
        .createTable('refresh_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('session_id', 'text', (c) => c.notNull().references('sessions.id').onDelete('cascade'))
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('parent_id', 'text')
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('expires_at', time, (c) => c.notNull())
        .addColumn('used_at', time)
        .addColumn('used_by', 'text')
        .addColumn('successor_id', 'text')
        .addColumn('successor_sealed', 'text')
        .execute();
      await db.schema.createIndex('refresh_tokens_session_id').on('refresh_tokens').column('session_id').execute();

      await db.schema
        .createTable('signing_keys')
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('alg', 'text', (c) => c.notNull())
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('private_sealed', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('signing_keys_state').on('signing_keys').column('state').execute();

      await db.schema
        .createTable('clients')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .execute();

      // no foreign keys: the security log outlives the users and sessions it mentions
      await serial(db, 'events', 'id')
        .addColumn('user_id', 'text')
        .addColumn('session_id', 'text')
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('ip', 'text')
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('events_user_id').on('events').columns(['user_id', 'id']).execute();
      await db.schema.createIndex('events_type').on('events').columns(['type', 'id']).execute();

      await serial(db, 'revocations', 'cursor')
        .addColumn('sid', 'text')
        .addColumn('sub', 'text')
        .addColumn('revoked_at', time, (c) => c.notNull())
        .addColumn('until', time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('revocations_until').on('revocations').column('until').execute();

      await db.schema
        .createTable('password_resets')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('expires_at', time, (c) => c.notNull())
        .addColumn('used_at', time)
        .execute();
      await db.schema.createIndex('password_resets_user_id').on('password_resets').column('user_id').execute();

      await db.schema
        .createTable('mfa_totp')
        .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('secret_sealed', 'text', (c) => c.notNull())
        .addColumn('confirmed_at', time)
        .addColumn('last_step', time)
        .addColumn('created_at', time, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('recovery_codes')
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('code_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('used_at', time)
        .addPrimaryKeyConstraint('recovery_codes_pk', ['user_id', 'code_hash'])
        .execute();

      await db.schema
        .createTable('webauthn_credentials')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('counter', time, (c) => c.notNull().defaultTo(0))
        .addColumn('transports', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('last_used_at', time)
        .execute();
      await db.schema.createIndex('webauthn_credentials_user_id').on('webauthn_credentials').column('user_id').execute();

      await db.schema
        .createTable('mfa_challenges')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('challenge', 'text')
        .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', time, (c) => c.notNull())
        .addColumn('expires_at', time, (c) => c.notNull())
        .addColumn('used_at', time)
        .addColumn('context', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('mfa_challenges_user_id').on('mfa_challenges').column('user_id').execute();
      await db.schema.createIndex('mfa_challenges_expires_at').on('mfa_challenges').column('expires_at').execute();
    },
  };
}

/** SMS one-time codes: one phone per user, sealed at rest; the pending enrolment code lives on the row. */
function mfaSms(dialect: Dialect): Migration {
  const time: ColumnDataType = dialect === 'sqlite' ? 'integer' : 'bigint';
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('mfa_sms')
        .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
        .addColumn('phone_sealed', 'text', (c) => c.notNull())
        .addColumn('phone_masked', 'text', (c) => c.notNull())
        .addColumn('confirmed_at', time)
        .addColumn('code_hash', 'text')
        .addColumn('code_expires_at', time)
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', time, (c) => c.notNull())
        .execute();
    },
  };
}

/**
 * The key-encryption key's check value (one row): a node verifies its key against it before migrating, so a
 * node started with the wrong or a freshly generated key refuses to start instead of sealing with it.
 */
function kekCheck(dialect: Dialect): Migration {
  const time: ColumnDataType = dialect === 'sqlite' ? 'integer' : 'bigint';
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('kek_check')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('created_at', time, (c) => c.notNull())
        .execute();
    },
  };
}

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return { getMigrations: async () => ({ '0001_initial': initial(dialect), '0002_mfa_sms': mfaSms(dialect), '0003_kek_check': kekCheck(dialect) }) };
}

/**
 * Brings the database to the latest schema; a no-op when it is there already.
 * PostgreSQL: Kysely's migrator holds a session advisory lock (pg_advisory_lock) around the migration
 * transaction, so concurrent `tessera serve` processes wait for each other; its tables go in `schema`
 * (checked by name there, not in whichever schema happens to have a kysely_migration table).
 * SQLite: Kysely's adapter takes no lock and its deferred BEGIN lets two processes both read "not migrated"
 * then fail on write, so we run the migrator on one connection inside BEGIN IMMEDIATE, which takes the
 * file's write lock first (other processes wait up to busy_timeout).
 */
export async function migrateToLatest(db: Kysely<unknown>, dialect: Dialect, schema?: string): Promise<void> {
  const provider = migrationProvider(dialect);
  if (dialect === 'postgres') {
    const { error } = await new Migrator({ db, provider, migrationTableSchema: schema }).migrateToLatest();
    if (error) throw asError(error);
    return;
  }
  await db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const { error } = await new Migrator({ db: conn, provider, disableTransactions: true }).migrateToLatest();
      if (error) throw asError(error);
      await sql`commit`.execute(conn);
    } catch (err) {
      await sql`rollback`.execute(conn);
      throw err;
    }
  });
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(`migration failed: ${String(e)}`);
}
