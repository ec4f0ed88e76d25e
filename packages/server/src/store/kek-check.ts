/**
 * Key-encryption-key check value and the signing-key bootstrap: the two store operations that guard the
 * sealed keys of a deployment. The check value is read before migrations run (its table may not exist yet),
 * so the reads here treat a missing table as "nothing stored".
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import * as map from './rows.js';
import type { Database, Dialect } from './schema.js';
import type { SigningKeyRow } from './types.js';

/** PostgreSQL 42P01 undefined_table; SQLite "no such table". */
function isMissingTable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e?.code === '42P01' || (typeof e?.message === 'string' && /no such table/.test(e.message));
}

async function orUndefined<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if (isMissingTable(err)) return undefined;
    throw err;
  }
}

export async function getKekCheck(db: Kysely<Database>): Promise<string | undefined> {
  return orUndefined(async () => {
    const r = await sql<{ value: string }>`select value from kek_check where id = 1`.execute(db);
    return r.rows[0]?.value;
  }).then((v) => v ?? undefined);
}

/** Stores `value` unless a value is stored already; returns the stored value (the first writer's). */
export async function putKekCheck(db: Kysely<Database>, value: string, at: number): Promise<string> {
  await sql`insert into kek_check (id, value, created_at) values (1, ${value}, ${at}) on conflict (id) do nothing`.execute(db);
  const stored = await getKekCheck(db);
  if (stored === undefined) throw new Error('kek_check: the stored value vanished');
  return stored;
}

/** One sealed signing key, if the database holds any (undefined on a fresh or not yet migrated database). */
export async function anySealedKey(db: Kysely<Database>): Promise<{ kid: string; sealed: string } | undefined> {
  return orUndefined(async () => {
    const r = await sql<{ kid: string; private_sealed: string }>`select kid, private_sealed from signing_keys where private_sealed like 'v1.%' limit 1`.execute(db);
    const row = r.rows[0];
    return row && { kid: row.kid, sealed: row.private_sealed };
  });
}

/**
 * Creates `current` and `next` of one algorithm in one serialised transaction, unless that algorithm
 * already has a `current` key. Nodes starting together on an empty database each call this; exactly one
 * inserts, and every other sees its rows, so all of them sign with the same key from the first token on.
 * Returns true when this call inserted.
 */
export async function bootstrapSigningKeys(db: Kysely<Database>, dialect: Dialect, current: SigningKeyRow, next: SigningKeyRow): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    if (dialect === 'postgres') await sql`lock table signing_keys in share row exclusive mode`.execute(trx);
    // SQLite: a write first takes the database's RESERVED lock, so a racer waits (busy_timeout) instead of
    // reading the same empty table and failing to upgrade its read lock.
    else await sql`update signing_keys set state = state where 0 = 1`.execute(trx);
    const live = await trx.selectFrom('signing_keys').select(['state']).where('alg', '=', current.alg).where('state', 'in', ['current', 'next']).execute();
    if (live.some((r) => r.state === 'current')) return false;
    await trx.insertInto('signing_keys').values(map.signingKeys.toRow({ ...current, state: 'current' })).execute();
    if (!live.some((r) => r.state === 'next')) await trx.insertInto('signing_keys').values(map.signingKeys.toRow({ ...next, state: 'next' })).execute();
    return true;
  });
}
