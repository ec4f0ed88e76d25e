/** Migration 0004: the OpenID Connect provider's tables (store/migrations.ts lists it). */
import type { Kysely, Migration } from 'kysely';
import type { SchemaTypes } from './dialects/dialect.js';

/**
 * The OpenID Connect provider's tables (ports/oauth.ts). No foreign keys to users or sessions: the rows of a
 * deleted user go with the provider's own cleanup, and the tables stay independent of the core's.
 */
export function oauthProvider(t: SchemaTypes): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await t
        .createTable(db, 'oauth_clients')
        .addColumn('id', t.key, (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', t.key, (c) => c.notNull())
        .addColumn('secret_hash', 'text')
        .addColumn('redirect_uris', 'text', (c) => c.notNull())
        .addColumn('post_logout_redirect_uris', 'text', (c) => c.notNull())
        .addColumn('backchannel_logout_uri', 'text')
        .addColumn('first_party', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('audience', t.longKey)
        .addColumn('created_at', t.time, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('oauth_clients_audience').on('oauth_clients').column('audience').execute();
      await t
        .createTable(db, 'oauth_codes')
        .addColumn('id', t.key, (c) => c.primaryKey())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('client_id', t.key, (c) => c.notNull())
        .addColumn('user_id', t.key, (c) => c.notNull())
        .addColumn('redirect_uri', 'text', (c) => c.notNull())
        .addColumn('code_challenge', 'text', (c) => c.notNull())
        .addColumn('nonce', 'text')
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('resource', 'text')
        .addColumn('auth_time', t.time, (c) => c.notNull())
        .addColumn('amr', 'text', (c) => c.notNull())
        .addColumn('ip', 'text', (c) => c.notNull())
        .addColumn('user_agent', 'text')
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addColumn('expires_at', t.time, (c) => c.notNull())
        .addColumn('used_at', t.time)
        .addColumn('session_id', t.key)
        .execute();
      await t
        .createTable(db, 'oauth_consents')
        .addColumn('user_id', t.key, (c) => c.notNull())
        .addColumn('client_id', t.key, (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('created_at', t.time, (c) => c.notNull())
        .addPrimaryKeyConstraint('oauth_consents_pk', ['user_id', 'client_id'])
        .execute();
      await oauthSessionTables(t, db);
    },
  };
}

/** which client holds which session, the ID-token keys and the back-channel logout queue */
async function oauthSessionTables(t: SchemaTypes, db: Kysely<unknown>): Promise<void> {
  await t
    .createTable(db, 'oauth_sessions')
    .addColumn('session_id', t.key, (c) => c.primaryKey())
    .addColumn('client_id', t.key, (c) => c.notNull())
    .addColumn('user_id', t.key, (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('resource', 'text')
    .addColumn('created_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('oauth_sessions_user_id').on('oauth_sessions').column('user_id').execute();
  await t
    .createTable(db, 'oauth_id_keys')
    .addColumn('kid', t.key, (c) => c.primaryKey())
    .addColumn('alg', t.key, (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    .addColumn('private_sealed', 'text', (c) => c.notNull())
    .addColumn('state', t.key, (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .execute();
  await t
    .createTable(db, 'oauth_logout_deliveries')
    .addColumn('id', t.key, (c) => c.primaryKey())
    .addColumn('client_id', t.key, (c) => c.notNull())
    .addColumn('session_id', t.key, (c) => c.notNull())
    .addColumn('user_id', t.key, (c) => c.notNull())
    .addColumn('uri', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', t.time, (c) => c.notNull())
    .addColumn('delivered_at', t.time)
    .addColumn('failed_at', t.time)
    .addColumn('created_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('oauth_logout_once').unique().on('oauth_logout_deliveries').columns(['session_id', 'client_id']).execute();
  await db.schema.createIndex('oauth_logout_due').on('oauth_logout_deliveries').column('next_attempt_at').execute();
  await t
    .createTable(db, 'oauth_backchannel_cursor')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('cursor', t.time, (c) => c.notNull())
    .execute();
}
