/**
 * The one Store implementation, over Kysely on better-sqlite3 or pg.
 *
 * Atomicity: every consume-once or guarded operation is a single conditional UPDATE (… WHERE used_at IS
 * NULL … RETURNING), which PostgreSQL re-evaluates on the latest row version after a concurrent writer
 * commits, so two racers can never both match. Multi-statement operations run in one transaction whose
 * first statement writes. On SQLite all queries share one better-sqlite3 connection; Kysely's SqliteDriver
 * holds a mutex on that connection from BEGIN to COMMIT, so transactions of concurrent async callers are
 * serialized rather than interleaved (store.test.ts proves it with concurrent rotations).
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { migrateToLatest } from './migrations.js';
import * as map from './rows.js';
import type { Database, Dialect } from './schema.js';
import type {
  ClientRow,
  EventRow,
  GeoPoint,
  MfaChallengeRow,
  NewEvent,
  NewRevocation,
  PasswordResetRow,
  RefreshTokenRow,
  RevocationRow,
  SessionRow,
  SigningKeyRow,
  SmsPhoneRow,
  Store,
  TotpRow,
  UserRow,
  WebauthnCredentialRow,
} from './types.js';

/** true only for a unique violation of users.email (not of the id or anything else) */
function isEmailTaken(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; message?: unknown; constraint?: unknown };
  if (e.code === 'SQLITE_CONSTRAINT_UNIQUE') return typeof e.message === 'string' && e.message.includes('users.email');
  if (e.code === '23505') return e.constraint === 'users_email_unique';
  return false;
}

const changed = (r: { numUpdatedRows: bigint } | { numDeletedRows: bigint }): boolean =>
  ('numUpdatedRows' in r ? r.numUpdatedRows : r.numDeletedRows) > 0n;

export class KyselyStore implements Store {
  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: Dialect,
    private readonly pgSchema?: string,
  ) {}

  async migrate(): Promise<void> {
    let schema = this.pgSchema;
    if (this.dialect === 'postgres' && schema === undefined) {
      const r = await sql<{ s: string }>`select current_schema() as s`.execute(this.db);
      schema = r.rows[0]?.s;
    }
    await migrateToLatest(this.db as unknown as Kysely<unknown>, this.dialect, schema);
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  // users

  async createUser(row: UserRow): Promise<boolean> {
    try {
      await this.db.insertInto('users').values(map.users.toRow(row)).execute();
      return true;
    } catch (err) {
      if (isEmailTaken(err)) return false;
      throw err;
    }
  }

  async getUserById(id: string): Promise<UserRow | undefined> {
    const r = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return r && map.users.fromRow(r);
  }

  async getUserByEmail(email: string): Promise<UserRow | undefined> {
    const r = await this.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
    return r && map.users.fromRow(r);
  }

  async setPasswordHash(userId: string, hash: string): Promise<void> {
    await this.db.updateTable('users').set({ password_hash: hash }).where('id', '=', userId).execute();
  }

  async setPasswordResetRequired(userId: string, required: boolean): Promise<void> {
    await this.db.updateTable('users').set({ password_reset_required: required ? 1 : 0 }).where('id', '=', userId).execute();
  }

  // sessions

  async createSession(row: SessionRow): Promise<void> {
    await this.db.insertInto('sessions').values(map.sessions.toRow(row)).execute();
  }

  async getSession(id: string): Promise<SessionRow | undefined> {
    const r = await this.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    return r && map.sessions.fromRow(r);
  }

  async listLiveSessions(userId: string, now: number): Promise<SessionRow[]> {
    const rows = await this.db
      .selectFrom('sessions')
      .selectAll()
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return rows.map(map.sessions.fromRow);
  }

  async touchSession(id: string, patch: { lastSeenAt: number; ip: string | null; geo: GeoPoint | null; userAgent: string | null }): Promise<void> {
    await this.db
      .updateTable('sessions')
      .set({ last_seen_at: patch.lastSeenAt, ip: patch.ip, geo: map.geoJson(patch.geo), user_agent: patch.userAgent })
      .where('id', '=', id)
      .execute();
  }

  async revokeSession(id: string, reason: string, at: number, until: number): Promise<number | null> {
    return this.db.transaction().execute(async (trx) => {
      // The feed-order lock first (see appendRevocation), then the session change and its feed row.
      await this.lockRevocations(trx);
      const r = await trx
        .updateTable('sessions')
        .set({ revoked_at: at, revoke_reason: reason })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', at)
        .executeTakeFirst();
      if (!changed(r)) return null;
      return this.insertRevocation(trx, { sid: id, sub: null, revokedAt: at, until });
    });
  }

  async revokeUserSessions(userId: string, reason: string, at: number, until: number, exceptId?: string): Promise<Array<{ sid: string; cursor: number }>> {
    return this.db.transaction().execute(async (trx) => {
      await this.lockRevocations(trx);
      let q = trx
        .updateTable('sessions')
        .set({ revoked_at: at, revoke_reason: reason })
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', at);
      if (exceptId !== undefined) q = q.where('id', '<>', exceptId);
      const rows = await q.returning('id').execute();
      const out: Array<{ sid: string; cursor: number }> = [];
      for (const { id } of rows) out.push({ sid: id, cursor: await this.insertRevocation(trx, { sid: id, sub: null, revokedAt: at, until }) });
      return out;
    });
  }

  // refresh tokens

  async insertRefreshToken(row: RefreshTokenRow): Promise<void> {
    await this.db.insertInto('refresh_tokens').values(map.refreshTokens.toRow(row)).execute();
  }

  async getRefreshToken(id: string): Promise<RefreshTokenRow | undefined> {
    const r = await this.db.selectFrom('refresh_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return r && map.refreshTokens.fromRow(r);
  }

  async listRefreshTokens(sessionId: string): Promise<RefreshTokenRow[]> {
    const rows = await this.db
      .selectFrom('refresh_tokens')
      .selectAll()
      .where('session_id', '=', sessionId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(map.refreshTokens.fromRow);
  }

  async rotateRefreshToken(args: { id: string; usedAt: number; usedBy: string; successor: RefreshTokenRow; successorSealed: string | null }): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const r = await trx
        .updateTable('refresh_tokens')
        .set({ used_at: args.usedAt, used_by: args.usedBy, successor_id: args.successor.id, successor_sealed: args.successorSealed })
        .where('id', '=', args.id)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      if (!changed(r)) return false;
      await trx.insertInto('refresh_tokens').values(map.refreshTokens.toRow(args.successor)).execute();
      return true;
    });
  }

  // signing keys

  async listSigningKeys(): Promise<SigningKeyRow[]> {
    const rows = await this.db.selectFrom('signing_keys').selectAll().orderBy('created_at').orderBy('kid').execute();
    return rows.map(map.signingKeys.fromRow);
  }

  async insertSigningKey(row: SigningKeyRow): Promise<void> {
    await this.db.insertInto('signing_keys').values(map.signingKeys.toRow(row)).execute();
  }

  async rotateSigningKeys(newNext: SigningKeyRow): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      // READ COMMITTED would let two racing rotations each shift a different snapshot of states
      if (this.dialect === 'postgres') await sql`lock table signing_keys in share row exclusive mode`.execute(trx);
      await trx.updateTable('signing_keys').set({ state: 'retired' }).where('state', '=', 'previous').execute();
      await trx.updateTable('signing_keys').set({ state: 'previous' }).where('state', '=', 'current').execute();
      await trx.updateTable('signing_keys').set({ state: 'current' }).where('state', '=', 'next').execute();
      await trx.insertInto('signing_keys').values(map.signingKeys.toRow({ ...newNext, state: 'next' })).execute();
    });
  }

  // resource-server clients

  async createClient(row: ClientRow): Promise<void> {
    await this.db
      .insertInto('clients')
      .values({ id: row.id, name: row.name, secret_hash: row.secretHash, created_at: row.createdAt })
      .execute();
  }

  async getClient(id: string): Promise<ClientRow | undefined> {
    const r = await this.db.selectFrom('clients').selectAll().where('id', '=', id).executeTakeFirst();
    return r && { id: r.id, name: r.name, secretHash: r.secret_hash, createdAt: r.created_at };
  }

  // security events

  async appendEvent(ev: NewEvent): Promise<number> {
    const r = await this.db
      .insertInto('events')
      .values({ user_id: ev.userId, session_id: ev.sessionId, type: ev.type, ip: ev.ip, data: JSON.stringify(ev.data), created_at: ev.createdAt })
      .returning('id')
      .executeTakeFirstOrThrow();
    return r.id;
  }

  /** newest first; `beforeId` pages backwards */
  async listEvents(q: { userId?: string; type?: string; limit: number; beforeId?: number }): Promise<EventRow[]> {
    let s = this.db.selectFrom('events').selectAll();
    if (q.userId !== undefined) s = s.where('user_id', '=', q.userId);
    if (q.type !== undefined) s = s.where('type', '=', q.type);
    if (q.beforeId !== undefined) s = s.where('id', '<', q.beforeId);
    const rows = await s.orderBy('id', 'desc').limit(q.limit).execute();
    return rows.map(map.events.fromRow);
  }

  // revocation feed

  async appendRevocation(r: NewRevocation): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      // PostgreSQL hands out sequence values before commit; without this lock a reader could see cursor 6
      // before cursor 5 commits, move its `since` past 5 and never learn of that revocation.
      await this.lockRevocations(trx);
      return this.insertRevocation(trx, r);
    });
  }

  /** inside a transaction that holds the feed-order lock */
  private async insertRevocation(trx: Kysely<Database>, r: NewRevocation): Promise<number> {
    const row = await trx
      .insertInto('revocations')
      .values({ sid: r.sid, sub: r.sub, revoked_at: r.revokedAt, until: r.until })
      .returning('cursor')
      .executeTakeFirstOrThrow();
    return row.cursor;
  }

  async listRevocationsSince(since: number, limit: number): Promise<RevocationRow[]> {
    const rows = await this.db
      .selectFrom('revocations')
      .selectAll()
      .where('cursor', '>', since)
      .orderBy('cursor')
      .limit(limit)
      .execute();
    return rows.map(map.revocations.fromRow);
  }

  async latestRevocationCursor(): Promise<number> {
    const r = await this.db
      .selectFrom('revocations')
      .select((eb) => eb.fn.max('cursor').as('c'))
      .executeTakeFirst();
    return r?.c ?? 0;
  }

  /** deletes entries with until < untilBefore, except the newest one so the latest cursor never goes back */
  async pruneExpired(before: number): Promise<number> {
    const a = await this.db.deleteFrom('mfa_challenges').where('expires_at', '<', before).executeTakeFirst();
    const b = await this.db.deleteFrom('password_resets').where('expires_at', '<', before).executeTakeFirst();
    return Number(a.numDeletedRows) + Number(b.numDeletedRows);
  }

  async pruneRevocations(untilBefore: number): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      await this.lockRevocations(trx);
      const r = await trx
        .deleteFrom('revocations')
        .where('until', '<', untilBefore)
        .where((eb) => eb('cursor', '<', eb.selectFrom('revocations').select((e) => e.fn.max('cursor').as('m'))))
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    });
  }

  private async lockRevocations(trx: Kysely<Database>): Promise<void> {
    if (this.dialect === 'postgres') await sql`lock table revocations in share row exclusive mode`.execute(trx);
  }

  // password resets

  async insertPasswordReset(row: PasswordResetRow): Promise<void> {
    await this.db.insertInto('password_resets').values(map.passwordResets.toRow(row)).execute();
  }

  async getPasswordReset(id: string): Promise<PasswordResetRow | undefined> {
    const r = await this.db.selectFrom('password_resets').selectAll().where('id', '=', id).executeTakeFirst();
    return r && map.passwordResets.fromRow(r);
  }

  async consumePasswordReset(id: string, now: number): Promise<PasswordResetRow | undefined> {
    const r = await this.db
      .updateTable('password_resets')
      .set({ used_at: now })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
    return r && map.passwordResets.fromRow(r);
  }

  // TOTP

  async putTotp(row: TotpRow): Promise<void> {
    const v = map.totp.toRow(row);
    await this.db
      .insertInto('mfa_totp')
      .values(v)
      .onConflict((oc) =>
        oc.column('user_id').doUpdateSet({ secret_sealed: v.secret_sealed, confirmed_at: v.confirmed_at, last_step: v.last_step, created_at: v.created_at }),
      )
      .execute();
  }

  async getTotp(userId: string): Promise<TotpRow | undefined> {
    const r = await this.db.selectFrom('mfa_totp').selectAll().where('user_id', '=', userId).executeTakeFirst();
    return r && map.totp.fromRow(r);
  }

  /** confirms an unconfirmed enrolment and consumes `step` (the code that proved it), once */
  async confirmTotp(userId: string, at: number, step: number): Promise<boolean> {
    const r = await this.db
      .updateTable('mfa_totp')
      .set({ confirmed_at: at, last_step: step })
      .where('user_id', '=', userId)
      .where('confirmed_at', 'is', null)
      .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
      .executeTakeFirst();
    return changed(r);
  }

  async deleteTotp(userId: string): Promise<void> {
    await this.db.deleteFrom('mfa_totp').where('user_id', '=', userId).execute();
  }

  async useTotpStep(userId: string, step: number): Promise<boolean> {
    const r = await this.db
      .updateTable('mfa_totp')
      .set({ last_step: step })
      .where('user_id', '=', userId)
      .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
      .executeTakeFirst();
    return changed(r);
  }

  // recovery codes

  async replaceRecoveryCodes(userId: string, hashes: string[], at: number): Promise<void> {
    const unique = [...new Set(hashes)];
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
      if (unique.length === 0) return;
      await trx
        .insertInto('recovery_codes')
        .values(unique.map((h) => ({ user_id: userId, code_hash: h, created_at: at, used_at: null })))
        .execute();
    });
  }

  async consumeRecoveryCode(userId: string, hash: string, at: number): Promise<boolean> {
    const r = await this.db
      .updateTable('recovery_codes')
      .set({ used_at: at })
      .where('user_id', '=', userId)
      .where('code_hash', '=', hash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return changed(r);
  }

  /** unused codes left */
  async countRecoveryCodes(userId: string): Promise<number> {
    const r = await this.db
      .selectFrom('recovery_codes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async deleteRecoveryCodes(userId: string): Promise<void> {
    await this.db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  }

  // WebAuthn

  async insertWebauthnCredential(row: WebauthnCredentialRow): Promise<void> {
    await this.db.insertInto('webauthn_credentials').values(map.webauthn.toRow(row)).execute();
  }

  async getWebauthnCredential(id: string): Promise<WebauthnCredentialRow | undefined> {
    const r = await this.db.selectFrom('webauthn_credentials').selectAll().where('id', '=', id).executeTakeFirst();
    return r && map.webauthn.fromRow(r);
  }

  async listWebauthnCredentials(userId: string): Promise<WebauthnCredentialRow[]> {
    const rows = await this.db
      .selectFrom('webauthn_credentials')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(map.webauthn.fromRow);
  }

  /**
   * Moves the counter strictly forward. Exception: 0 → 0 is accepted, because many authenticators
   * (passkeys synced across devices) always report 0 and so cannot signal cloning; once a credential has
   * reported a non-zero counter, 0 or any value not above the stored one is refused.
   */
  async updateWebauthnCounter(id: string, counter: number, usedAt: number): Promise<boolean> {
    const r = await this.db
      .updateTable('webauthn_credentials')
      .set({ counter, last_used_at: usedAt })
      .where('id', '=', id)
      .where('counter', counter === 0 ? '=' : '<', counter)
      .executeTakeFirst();
    return changed(r);
  }

  async deleteWebauthnCredential(userId: string, id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('webauthn_credentials').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
    return changed(r);
  }

  // MFA challenges

  async insertMfaChallenge(row: MfaChallengeRow): Promise<void> {
    await this.db.insertInto('mfa_challenges').values(map.mfaChallenges.toRow(row)).execute();
  }

  async getMfaChallenge(id: string): Promise<MfaChallengeRow | undefined> {
    const r = await this.db.selectFrom('mfa_challenges').selectAll().where('id', '=', id).executeTakeFirst();
    return r && map.mfaChallenges.fromRow(r);
  }

  async setMfaChallengeChallenge(id: string, challenge: string): Promise<void> {
    await this.db.updateTable('mfa_challenges').set({ challenge }).where('id', '=', id).execute();
  }

  async consumeMfaChallenge(id: string, now: number): Promise<MfaChallengeRow | undefined> {
    const r = await this.db
      .updateTable('mfa_challenges')
      .set({ used_at: now })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
    return r && map.mfaChallenges.fromRow(r);
  }

  /** returns the new count; 0 when there is no such challenge */
  async incrementMfaFailures(id: string): Promise<number> {
    const r = await this.db
      .updateTable('mfa_challenges')
      .set((eb) => ({ failures: eb('failures', '+', 1) }))
      .where('id', '=', id)
      .returning('failures')
      .executeTakeFirst();
    return r?.failures ?? 0;
  }

  // SMS phone

  async putSmsPhone(row: SmsPhoneRow): Promise<boolean> {
    const v = map.smsPhones.toRow(row);
    // A confirmed phone is never replaced by a new enrolment: it must be removed first.
    const r = await this.db
      .insertInto('mfa_sms')
      .values(v)
      .onConflict((oc) =>
        oc
          .column('user_id')
          .doUpdateSet({
            phone_sealed: v.phone_sealed,
            phone_masked: v.phone_masked,
            confirmed_at: v.confirmed_at,
            code_hash: v.code_hash,
            code_expires_at: v.code_expires_at,
            attempts: v.attempts,
            created_at: v.created_at,
          })
          .where('mfa_sms.confirmed_at', 'is', null),
      )
      .returning('user_id')
      .executeTakeFirst();
    return r !== undefined;
  }

  async getSmsPhone(userId: string): Promise<SmsPhoneRow | undefined> {
    const r = await this.db.selectFrom('mfa_sms').selectAll().where('user_id', '=', userId).executeTakeFirst();
    return r && map.smsPhones.fromRow(r);
  }

  async incrementSmsAttempts(userId: string): Promise<number> {
    const r = await this.db
      .updateTable('mfa_sms')
      .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where('user_id', '=', userId)
      .where('confirmed_at', 'is', null)
      .returning('attempts')
      .executeTakeFirst();
    return r?.attempts ?? 0;
  }

  async confirmSmsPhone(userId: string, codeHash: string, at: number): Promise<boolean> {
    const r = await this.db
      .updateTable('mfa_sms')
      .set({ confirmed_at: at, code_hash: null, code_expires_at: null })
      .where('user_id', '=', userId)
      .where('confirmed_at', 'is', null)
      .where('code_hash', '=', codeHash)
      .where('code_expires_at', '>', at)
      .executeTakeFirst();
    return changed(r);
  }

  async deleteSmsPhone(userId: string): Promise<boolean> {
    return changed(await this.db.deleteFrom('mfa_sms').where('user_id', '=', userId).executeTakeFirst());
  }

  // ---- wave/lockout (issue 17 items 3-5, 11): new operations, to port into the per-area stores ----

  async voidPasswordResets(userId: string, now: number): Promise<number> {
    const r = await this.db
      .updateTable('password_resets')
      .set({ used_at: now })
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }
}
