/**
 * Store conformance: the same suite against SQLite (a temp file and :memory:) and PostgreSQL (a unique schema
 * per run, dropped afterwards), including the races the storage contract must win by construction.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import pg from 'pg';
import { openKyselyStore, openStore } from '../../src/store/connect.js';
import type { KyselyStore } from '../../src/store/kysely-store.js';
import { migrationProvider } from '../../src/store/migrations.js';
import type { SigningKeyRow, SmsPhoneRow } from '../../src/store/types.js';
import { PG_URL, hasPostgres } from '../support/services.js';
import {
  HOUR,
  dropPgSchemas,
  freshPgSchema,
  T0,
  challenge,
  postgresBackend,
  refresh,
  reset,
  session,
  sqliteFileBackend,
  sqliteMemoryBackend,
  uid,
  user,
} from '../support/store-fixtures.js';

const N = 20;
const MIGRATIONS = Object.keys(await migrationProvider('sqlite').getMigrations()).length;
const backends = [sqliteFileBackend(), sqliteMemoryBackend(), postgresBackend()];

const key = (state: SigningKeyRow['state'], createdAt = T0): SigningKeyRow => ({
  kid: uid('kid'),
  alg: 'EdDSA',
  publicJwk: '{"kty":"OKP"}',
  privateSealed: 'sealed',
  state,
  createdAt,
});

for (const backend of backends) {
  describe.skipIf(backend.skip)(`store conformance: ${backend.name}`, () => {
    let store: KyselyStore;
    beforeAll(async () => {
      store = await backend.open();
      await store.migrate();
    });
    afterAll(async () => {
      await store?.close();
      await backend.cleanup();
    });

    async function newUser(): Promise<string> {
      const u = user();
      expect(await store.createUser(u)).toBe(true);
      return u.id;
    }
    async function newSession(): Promise<{ userId: string; sessionId: string }> {
      const userId = await newUser();
      const s = session(userId);
      await store.createSession(s);
      return { userId, sessionId: s.id };
    }

    describe('lifecycle', () => {
      it('migrate twice is a no-op', async () => {
        await store.migrate();
        await store.migrate();
        const r = await sql<{ n: number }>`select count(*) as n from kysely_migration`.execute(store.db);
        expect(Number(r.rows[0].n)).toBe(MIGRATIONS);
      });
      it('ping answers', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });
    });

    describe('users', () => {
      it('creates and reads back by id and by email', async () => {
        const u = user({ isAdmin: true });
        expect(await store.createUser(u)).toBe(true);
        expect(await store.getUserById(u.id)).toEqual(u);
        expect(await store.getUserByEmail(u.email)).toEqual(u);
        expect(await store.getUserById('nope')).toBeUndefined();
        expect(await store.getUserByEmail('nope@example.test')).toBeUndefined();
      });
      it('returns false for a taken email, and rethrows other constraint violations', async () => {
        const u = user();
        expect(await store.createUser(u)).toBe(true);
        expect(await store.createUser(user({ email: u.email }))).toBe(false);
        await expect(store.createUser(user({ id: u.id }))).rejects.toThrow();
      });
      it('concurrent sign-ups with one email: exactly one wins', async () => {
        const email = `${uid('race')}@example.test`;
        const results = await Promise.all(Array.from({ length: N }, () => store.createUser(user({ email }))));
        expect(results.filter(Boolean)).toHaveLength(1);
      });
      it('updates the password hash and the reset flag', async () => {
        const id = await newUser();
        await store.setPasswordHash(id, 'new-hash');
        await store.setPasswordResetRequired(id, true);
        expect(await store.getUserById(id)).toMatchObject({ passwordHash: 'new-hash', passwordResetRequired: true });
        await store.setPasswordResetRequired(id, false);
        expect((await store.getUserById(id))!.passwordResetRequired).toBe(false);
      });
    });

    describe('sessions', () => {
      it('round-trips every field, including JSON geo and amr', async () => {
        const userId = await newUser();
        const s = session(userId, { dpopJkt: 'jkt', transport: 'cookie' });
        await store.createSession(s);
        expect(await store.getSession(s.id)).toEqual(s);
        const bare = session(userId, { geo: null, ip: null, userAgent: null, amr: [] });
        await store.createSession(bare);
        expect(await store.getSession(bare.id)).toEqual(bare);
        expect(await store.getSession('nope')).toBeUndefined();
      });
      it('refuses a session of an unknown user (foreign keys are on)', async () => {
        await expect(store.createSession(session('no-such-user'))).rejects.toThrow();
      });
      it('lists live sessions newest first, without revoked, expired or other users’ sessions', async () => {
        const userId = await newUser();
        const other = await newUser();
        const older = session(userId, { createdAt: T0 });
        const newer = session(userId, { createdAt: T0 + 1000 });
        const expired = session(userId, { expiresAt: T0 + HOUR });
        const revoked = session(userId, { revokedAt: T0, revokeReason: 'logout' });
        for (const s of [older, newer, expired, revoked, session(other)]) await store.createSession(s);
        const live = await store.listLiveSessions(userId, T0 + 2 * HOUR);
        expect(live.map((s) => s.id)).toEqual([newer.id, older.id]);
      });
      it('touches last-seen, ip, geo and user agent', async () => {
        const { sessionId } = await newSession();
        await store.touchSession(sessionId, { lastSeenAt: T0 + 5, ip: '198.51.100.1', geo: null, userAgent: 'ua2' });
        expect(await store.getSession(sessionId)).toMatchObject({ lastSeenAt: T0 + 5, ip: '198.51.100.1', geo: null, userAgent: 'ua2' });
      });
      it('revokes once; an expired session is not revoked', async () => {
        const { userId, sessionId } = await newSession();
        const cursor = await store.revokeSession(sessionId, 'logout', T0 + 1, T0 + 100);
        expect(cursor).toEqual(expect.any(Number));
        expect(await store.revokeSession(sessionId, 'again', T0 + 2, T0 + 100)).toBeNull();
        expect(await store.getSession(sessionId)).toMatchObject({ revokedAt: T0 + 1, revokeReason: 'logout' });
        const old = session(userId, { expiresAt: T0 + 10 });
        await store.createSession(old);
        expect(await store.revokeSession(old.id, 'logout', T0 + 20, T0 + 100)).toBeNull();
      });
      it('writes the revocation and its feed row in one step', async () => {
        const { sessionId } = await newSession();
        const before = await store.latestRevocationCursor();
        const cursor = await store.revokeSession(sessionId, 'logout', T0 + 1, T0 + 100);
        expect(await store.listRevocationsSince(before, 10)).toEqual([{ cursor, sid: sessionId, sub: null, revokedAt: T0 + 1, until: T0 + 100 }]);
        await store.revokeSession(sessionId, 'again', T0 + 2, T0 + 100);
        expect(await store.latestRevocationCursor()).toBe(cursor);
      });
      it('revokes all live sessions of a user except one', async () => {
        const userId = await newUser();
        const [a, b, c] = [session(userId), session(userId), session(userId)];
        for (const s of [a, b, c]) await store.createSession(s);
        await store.revokeSession(c.id, 'logout', T0, T0 + 100);
        const revoked = await store.revokeUserSessions(userId, 'password_changed', T0 + 1, T0 + 100, a.id);
        expect(revoked.map((r) => r.sid)).toEqual([b.id]);
        expect((await store.getSession(a.id))!.revokedAt).toBeNull();
        const all = await store.revokeUserSessions(userId, 'all', T0 + 2, T0 + 100);
        expect(all.map((r) => r.sid)).toEqual([a.id]);
        const feed = await store.listRevocationsSince(revoked[0].cursor - 1, 10);
        expect(feed.map((r) => [r.cursor, r.sid])).toEqual([[revoked[0].cursor, b.id], [all[0].cursor, a.id]]);
      });
    });

    describe('refresh tokens', () => {
      it('inserts, reads and rotates once', async () => {
        const { sessionId } = await newSession();
        const t = refresh(sessionId);
        await store.insertRefreshToken(t);
        expect(await store.getRefreshToken(t.id)).toEqual(t);
        const next = refresh(sessionId, { parentId: t.id, createdAt: T0 + 1 });
        expect(await store.rotateRefreshToken({ id: t.id, usedAt: T0 + 1, usedBy: 'jkt', successor: next, successorSealed: 'sealed' })).toBe(true);
        expect(await store.getRefreshToken(t.id)).toMatchObject({ usedAt: T0 + 1, usedBy: 'jkt', successorId: next.id, successorSealed: 'sealed' });
        expect(await store.getRefreshToken(next.id)).toEqual(next);
        const other = refresh(sessionId, { parentId: t.id });
        expect(await store.rotateRefreshToken({ id: t.id, usedAt: T0 + 2, usedBy: 'x', successor: other, successorSealed: null })).toBe(false);
        expect(await store.getRefreshToken(other.id)).toBeUndefined();
        expect((await store.getRefreshToken(t.id))!.usedBy).toBe('jkt');
        expect(await store.listRefreshTokens(sessionId)).toEqual([await store.getRefreshToken(t.id), next]);
        expect(await store.listRefreshTokens('nope')).toEqual([]);
      });
      it('race: 20 concurrent rotations of one token → exactly one wins, one successor row', async () => {
        const { sessionId } = await newSession();
        const t = refresh(sessionId);
        await store.insertRefreshToken(t);
        const results = await Promise.all(
          Array.from({ length: N }, (_, i) =>
            store.rotateRefreshToken({ id: t.id, usedAt: T0 + i, usedBy: `c${i}`, successor: refresh(sessionId, { parentId: t.id }), successorSealed: null }),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const children = await store.db.selectFrom('refresh_tokens').select('id').where('parent_id', '=', t.id).execute();
        expect(children).toHaveLength(1);
        expect((await store.getRefreshToken(t.id))!.successorId).toBe(children[0].id);
      });
      it('race: concurrent transactions do not interleave; a failing one rolls back only itself', async () => {
        const { sessionId } = await newSession();
        const tokens = Array.from({ length: N }, () => refresh(sessionId));
        for (const t of tokens) await store.insertRefreshToken(t);
        const doomed = refresh(sessionId);
        await store.insertRefreshToken(doomed);
        // the successor id collides with an existing row, so the insert after the update fails
        const failing = store.rotateRefreshToken({ id: doomed.id, usedAt: T0, usedBy: 'x', successor: refresh(sessionId, { id: tokens[0].id }), successorSealed: null });
        const ok = tokens.map((t) => store.rotateRefreshToken({ id: t.id, usedAt: T0, usedBy: 'y', successor: refresh(sessionId, { parentId: t.id }), successorSealed: null }));
        const [failed, ...rest] = await Promise.allSettled([failing, ...ok]);
        expect(failed.status).toBe('rejected');
        expect(rest.map((r) => (r.status === 'fulfilled' ? r.value : r.reason))).toEqual(tokens.map(() => true));
        expect((await store.getRefreshToken(doomed.id))!.usedAt).toBeNull();
        for (const t of tokens) expect((await store.getRefreshToken(t.id))!.successorId).not.toBeNull();
      });
    });

    describe('signing keys', () => {
      it('rotates next → current → previous → retired in one step, even when rotations race', async () => {
        const fresh = await backend.open();
        try {
          await fresh.migrate();
          const [prev, cur, next] = [key('previous', T0), key('current', T0 + 1), key('next', T0 + 2)];
          for (const k of [prev, cur, next]) await fresh.insertSigningKey(k);
          expect(await fresh.listSigningKeys()).toEqual([prev, cur, next]);
          const n1 = key('next', T0 + 3);
          await fresh.rotateSigningKeys(n1);
          const states = Object.fromEntries((await fresh.listSigningKeys()).map((k) => [k.kid, k.state]));
          expect(states).toEqual({ [prev.kid]: 'retired', [cur.kid]: 'previous', [next.kid]: 'current', [n1.kid]: 'next' });
          await Promise.all(Array.from({ length: 5 }, (_, i) => fresh.rotateSigningKeys(key('next', T0 + 10 + i))));
          const all = await fresh.listSigningKeys();
          const count = (s: string) => all.filter((k) => k.state === s).length;
          expect([count('next'), count('current'), count('previous'), count('retired')]).toEqual([1, 1, 1, all.length - 3]);
        } finally {
          await fresh.close();
        }
      });
    });

    describe('clients', () => {
      it('creates and reads a client', async () => {
        const c = { id: uid('cli'), name: 'notes', secretHash: 'h', createdAt: T0 };
        await store.createClient(c);
        expect(await store.getClient(c.id)).toEqual(c);
        expect(await store.getClient('nope')).toBeUndefined();
      });
    });

    describe('events', () => {
      it('appends with increasing ids and lists newest first with filters and paging', async () => {
        const userId = uid('usr');
        const ids: number[] = [];
        for (let i = 0; i < 5; i++) {
          ids.push(await store.appendEvent({ userId, sessionId: null, type: i % 2 ? 'login_failed' : 'login', ip: '203.0.113.5', data: { i, nested: { ok: true } }, createdAt: T0 + i }));
        }
        expect([...ids].sort((a, b) => a - b)).toEqual(ids);
        const all = await store.listEvents({ userId, limit: 10 });
        expect(all.map((e) => e.id)).toEqual([...ids].reverse());
        expect(all[4]).toEqual({ id: ids[0], userId, sessionId: null, type: 'login', ip: '203.0.113.5', data: { i: 0, nested: { ok: true } }, createdAt: T0 });
        expect((await store.listEvents({ userId, type: 'login_failed', limit: 10 })).map((e) => e.id)).toEqual([ids[3], ids[1]]);
        expect((await store.listEvents({ userId, limit: 2, beforeId: ids[3] })).map((e) => e.id)).toEqual([ids[2], ids[1]]);
        const typed = await store.listEvents({ type: 'login_failed', limit: 100 });
        expect(typed.every((e) => e.type === 'login_failed')).toBe(true);
      });
    });

    describe('revocation feed', () => {
      it('appends, lists since a cursor, reports the latest cursor and prunes all but the newest', async () => {
        const fresh = await backend.open();
        try {
          await fresh.migrate();
          expect(await fresh.latestRevocationCursor()).toBe(0);
          const c1 = await fresh.appendRevocation({ sid: 's1', sub: null, revokedAt: T0, until: T0 + 10 });
          const c2 = await fresh.appendRevocation({ sid: null, sub: 'u1', revokedAt: T0 + 1, until: T0 + 20 });
          const c3 = await fresh.appendRevocation({ sid: 's3', sub: 'u3', revokedAt: T0 + 2, until: T0 + 30 });
          expect(c1 < c2 && c2 < c3).toBe(true);
          expect(await fresh.latestRevocationCursor()).toBe(c3);
          expect(await fresh.listRevocationsSince(c1, 10)).toEqual([
            { cursor: c2, sid: null, sub: 'u1', revokedAt: T0 + 1, until: T0 + 20 },
            { cursor: c3, sid: 's3', sub: 'u3', revokedAt: T0 + 2, until: T0 + 30 },
          ]);
          expect((await fresh.listRevocationsSince(0, 1)).map((r) => r.cursor)).toEqual([c1]);
          expect(await fresh.pruneRevocations(T0 + 15)).toBe(1);
          expect(await fresh.pruneRevocations(T0 + 1000)).toBe(1);
          expect((await fresh.listRevocationsSince(0, 10)).map((r) => r.cursor)).toEqual([c3]);
          expect(await fresh.latestRevocationCursor()).toBe(c3);
          const concurrent = await Promise.all(Array.from({ length: N }, () => fresh.appendRevocation({ sid: 's', sub: null, revokedAt: T0, until: T0 })));
          expect(new Set(concurrent).size).toBe(N);
          expect(Math.min(...concurrent)).toBeGreaterThan(c3);
        } finally {
          await fresh.close();
        }
      });
    });

    describe('housekeeping', () => {
      it('pruneExpired deletes only expired challenges and reset links', async () => {
        const userId = await newUser();
        const expired = challenge(userId, { expiresAt: T0 - 1 });
        const live = challenge(userId, { expiresAt: T0 + HOUR });
        const oldReset = reset(userId, { expiresAt: T0 - 1 });
        const liveReset = reset(userId, { expiresAt: T0 + HOUR });
        for (const c of [expired, live]) await store.insertMfaChallenge(c);
        for (const r of [oldReset, liveReset]) await store.insertPasswordReset(r);
        expect(await store.pruneExpired(T0)).toBeGreaterThanOrEqual(2);
        expect(await store.getMfaChallenge(expired.id)).toBeUndefined();
        expect(await store.getPasswordReset(oldReset.id)).toBeUndefined();
        expect(await store.getMfaChallenge(live.id)).toBeDefined();
        expect(await store.getPasswordReset(liveReset.id)).toBeDefined();
      });
    });

    describe('password resets', () => {
      it('consumes once, never after expiry', async () => {
        const userId = await newUser();
        const p = reset(userId);
        await store.insertPasswordReset(p);
        expect(await store.getPasswordReset(p.id)).toEqual(p);
        expect(await store.consumePasswordReset(p.id, T0 + 1)).toEqual({ ...p, usedAt: T0 + 1 });
        expect(await store.consumePasswordReset(p.id, T0 + 2)).toBeUndefined();
        const old = reset(userId);
        await store.insertPasswordReset(old);
        expect(await store.consumePasswordReset(old.id, old.expiresAt)).toBeUndefined();
        expect(await store.consumePasswordReset('nope', T0)).toBeUndefined();
      });
      it('race: 20 concurrent consumes → exactly one winner', async () => {
        const p = reset(await newUser());
        await store.insertPasswordReset(p);
        const results = await Promise.all(Array.from({ length: N }, () => store.consumePasswordReset(p.id, T0 + 1)));
        expect(results.filter((r) => r !== undefined)).toHaveLength(1);
      });
    });

    describe('TOTP', () => {
      it('puts, replaces, confirms once and moves the step forward only', async () => {
        const userId = await newUser();
        await store.putTotp({ userId, secretSealed: 'a', confirmedAt: null, lastStep: null, createdAt: T0 });
        await store.putTotp({ userId, secretSealed: 'b', confirmedAt: null, lastStep: null, createdAt: T0 + 1 });
        expect(await store.getTotp(userId)).toEqual({ userId, secretSealed: 'b', confirmedAt: null, lastStep: null, createdAt: T0 + 1 });
        expect(await store.confirmTotp(userId, T0 + 2, 100)).toBe(true);
        expect(await store.confirmTotp(userId, T0 + 3, 101)).toBe(false);
        expect(await store.getTotp(userId)).toMatchObject({ confirmedAt: T0 + 2, lastStep: 100 });
        expect(await store.useTotpStep(userId, 100)).toBe(false);
        expect(await store.useTotpStep(userId, 99)).toBe(false);
        expect(await store.useTotpStep(userId, 101)).toBe(true);
        expect(await store.useTotpStep(userId, 101)).toBe(false);
        expect(await store.useTotpStep('nope', 1)).toBe(false);
        await store.deleteTotp(userId);
        expect(await store.getTotp(userId)).toBeUndefined();
      });
      it('race: 20 concurrent uses of one step → exactly one winner', async () => {
        const userId = await newUser();
        await store.putTotp({ userId, secretSealed: 's', confirmedAt: T0, lastStep: 10, createdAt: T0 });
        const results = await Promise.all(Array.from({ length: N }, () => store.useTotpStep(userId, 11)));
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });

    describe('recovery codes', () => {
      it('replaces, counts unused, consumes once per user', async () => {
        const userId = await newUser();
        const other = await newUser();
        await store.replaceRecoveryCodes(userId, ['h1', 'h2', 'h3', 'h3'], T0);
        expect(await store.countRecoveryCodes(userId)).toBe(3);
        expect(await store.consumeRecoveryCode(other, 'h1', T0)).toBe(false);
        expect(await store.consumeRecoveryCode(userId, 'h1', T0)).toBe(true);
        expect(await store.consumeRecoveryCode(userId, 'h1', T0)).toBe(false);
        expect(await store.consumeRecoveryCode(userId, 'zz', T0)).toBe(false);
        expect(await store.countRecoveryCodes(userId)).toBe(2);
        await store.replaceRecoveryCodes(userId, ['h1', 'h9'], T0 + 1);
        expect(await store.countRecoveryCodes(userId)).toBe(2);
        expect(await store.consumeRecoveryCode(userId, 'h2', T0)).toBe(false);
        expect(await store.consumeRecoveryCode(userId, 'h1', T0)).toBe(true);
        await store.deleteRecoveryCodes(userId);
        expect(await store.countRecoveryCodes(userId)).toBe(0);
      });
      it('race: 20 concurrent consumes of one code → exactly one winner', async () => {
        const userId = await newUser();
        await store.replaceRecoveryCodes(userId, ['only'], T0);
        const results = await Promise.all(Array.from({ length: N }, () => store.consumeRecoveryCode(userId, 'only', T0 + 1)));
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });

    describe('WebAuthn credentials', () => {
      it('round-trips, lists per user and deletes only the owner’s', async () => {
        const userId = await newUser();
        const c = { id: uid('cred'), userId, publicKey: 'pk', counter: 0, transports: ['internal', 'hybrid'], name: 'laptop', createdAt: T0, lastUsedAt: null };
        await store.insertWebauthnCredential(c);
        expect(await store.getWebauthnCredential(c.id)).toEqual(c);
        expect(await store.listWebauthnCredentials(userId)).toEqual([c]);
        expect(await store.deleteWebauthnCredential(await newUser(), c.id)).toBe(false);
        expect(await store.deleteWebauthnCredential(userId, c.id)).toBe(true);
        expect(await store.getWebauthnCredential(c.id)).toBeUndefined();
      });
      it('moves the counter forward only; 0 → 0 is allowed for counterless authenticators', async () => {
        const userId = await newUser();
        const c = { id: uid('cred'), userId, publicKey: 'pk', counter: 0, transports: [], name: 'key', createdAt: T0, lastUsedAt: null };
        await store.insertWebauthnCredential(c);
        expect(await store.updateWebauthnCounter(c.id, 0, T0 + 1)).toBe(true);
        expect(await store.updateWebauthnCounter(c.id, 5, T0 + 2)).toBe(true);
        expect(await store.updateWebauthnCounter(c.id, 5, T0 + 3)).toBe(false);
        expect(await store.updateWebauthnCounter(c.id, 4, T0 + 3)).toBe(false);
        expect(await store.updateWebauthnCounter(c.id, 0, T0 + 3)).toBe(false);
        expect(await store.getWebauthnCredential(c.id)).toMatchObject({ counter: 5, lastUsedAt: T0 + 2 });
      });
    });

    describe('MFA challenges', () => {
      it('round-trips, sets the challenge, consumes once, never after expiry', async () => {
        const userId = await newUser();
        const m = challenge(userId);
        await store.insertMfaChallenge(m);
        expect(await store.getMfaChallenge(m.id)).toEqual(m);
        await store.setMfaChallengeChallenge(m.id, 'webauthn-challenge');
        expect(await store.consumeMfaChallenge(m.id, T0 + 1)).toEqual({ ...m, challenge: 'webauthn-challenge', usedAt: T0 + 1 });
        expect(await store.consumeMfaChallenge(m.id, T0 + 2)).toBeUndefined();
        const anon = challenge(null, { kind: 'webauthn_login' });
        await store.insertMfaChallenge(anon);
        expect(await store.consumeMfaChallenge(anon.id, anon.expiresAt)).toBeUndefined();
        expect(await store.getMfaChallenge(anon.id)).toEqual(anon);
      });
      it('race: 20 concurrent consumes → exactly one winner', async () => {
        const m = challenge(await newUser());
        await store.insertMfaChallenge(m);
        const results = await Promise.all(Array.from({ length: N }, () => store.consumeMfaChallenge(m.id, T0 + 1)));
        expect(results.filter((r) => r !== undefined)).toHaveLength(1);
      });
      it('race: a concurrent burst of failures counts 1..N with no lost update', async () => {
        const m = challenge(await newUser());
        await store.insertMfaChallenge(m);
        const counts = await Promise.all(Array.from({ length: N }, () => store.incrementMfaFailures(m.id)));
        expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
        expect((await store.getMfaChallenge(m.id))!.failures).toBe(N);
        expect(await store.incrementMfaFailures('nope')).toBe(0);
      });
    });

    describe('SMS phone', () => {
      const phone = (userId: string, over: Partial<SmsPhoneRow> = {}): SmsPhoneRow => ({
        userId,
        phoneSealed: 'sealed-a',
        phoneMasked: '+44••••••789',
        confirmedAt: null,
        codeHash: 'code-a',
        codeExpiresAt: T0 + 600_000,
        attempts: 0,
        createdAt: T0,
        ...over,
      });
      it('round-trips, replaces a pending enrolment but never a confirmed phone, deletes', async () => {
        const userId = await newUser();
        expect(await store.getSmsPhone(userId)).toBeUndefined();
        expect(await store.putSmsPhone(phone(userId))).toBe(true);
        expect(await store.getSmsPhone(userId)).toEqual(phone(userId));
        expect(await store.incrementSmsAttempts(userId)).toBe(1);
        const b = phone(userId, { phoneSealed: 'sealed-b', codeHash: 'code-b', createdAt: T0 + 1 });
        expect(await store.putSmsPhone(b)).toBe(true);
        expect(await store.getSmsPhone(userId)).toEqual(b);
        expect(await store.confirmSmsPhone(userId, 'code-b', T0 + 2)).toBe(true);
        const confirmed = { ...b, confirmedAt: T0 + 2, codeHash: null, codeExpiresAt: null };
        expect(await store.getSmsPhone(userId)).toEqual(confirmed);
        expect(await store.putSmsPhone(phone(userId, { phoneSealed: 'sealed-c' }))).toBe(false);
        expect(await store.getSmsPhone(userId)).toEqual(confirmed);
        expect(await store.incrementSmsAttempts(userId)).toBe(0);
        expect(await store.deleteSmsPhone(await newUser())).toBe(false);
        expect(await store.deleteSmsPhone(userId)).toBe(true);
        expect(await store.getSmsPhone(userId)).toBeUndefined();
        expect(await store.putSmsPhone(phone(userId, { phoneSealed: 'sealed-d' }))).toBe(true);
      });
      it('confirms only with the pending code, once, never after expiry', async () => {
        const userId = await newUser();
        await store.putSmsPhone(phone(userId));
        expect(await store.confirmSmsPhone(userId, 'code-x', T0 + 1)).toBe(false);
        expect(await store.confirmSmsPhone(userId, 'code-a', T0 + 600_000)).toBe(false);
        expect(await store.confirmSmsPhone(await newUser(), 'code-a', T0 + 1)).toBe(false);
        expect(await store.confirmSmsPhone(userId, 'code-a', T0 + 1)).toBe(true);
        expect(await store.confirmSmsPhone(userId, 'code-a', T0 + 2)).toBe(false);
        expect(await store.incrementSmsAttempts('nope')).toBe(0);
      });
      it('refuses a phone of an unknown user (foreign keys are on)', async () => {
        await expect(store.putSmsPhone(phone(uid('ghost')))).rejects.toThrow();
      });
      it('race: 20 concurrent confirmations → exactly one winner; attempts count 1..N with no lost update', async () => {
        const userId = await newUser();
        await store.putSmsPhone(phone(userId));
        const counts = await Promise.all(Array.from({ length: N }, () => store.incrementSmsAttempts(userId)));
        expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
        const results = await Promise.all(Array.from({ length: N }, () => store.confirmSmsPhone(userId, 'code-a', T0 + 1)));
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });
  });
}

describe('openStore', () => {
  it('refuses unknown URLs with a clear error, without echoing a password', async () => {
    await expect(openStore('mysql://root:hunter2@db/x')).rejects.toThrow(/unsupported database URL "mysql:\/\/\*\*\*@db\/x"/);
    await expect(openStore('sqlite:')).rejects.toThrow(/sqlite:PATH/);
  });
  it.skipIf(!hasPostgres)('refuses a pgSchema that is not a plain identifier (no SQL through the schema name)', async () => {
    await expect(openStore(PG_URL, { pgSchema: 'x; drop table users' })).rejects.toThrow(/invalid pgSchema/);
  });
  it('does not migrate by itself', async () => {
    const s = await openStore('sqlite::memory:');
    try {
      await expect(s.getUserById('x')).rejects.toThrow(/no such table/);
    } finally {
      await s.close();
    }
  });
});

describe('SQLite file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-sqlite-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates the parent folder and sets WAL, busy_timeout and foreign_keys', async () => {
    const s = await openKyselyStore(`sqlite:${dir}/a/b/t.db`);
    try {
      expect(fs.existsSync(`${dir}/a/b/t.db`)).toBe(true);
      const one = async (q: string) => Object.values((await sql.raw<Record<string, unknown>>(q).execute(s.db)).rows[0])[0];
      expect(await one('pragma journal_mode')).toBe('wal');
      expect(await one('pragma busy_timeout')).toBe(5000);
      expect(await one('pragma foreign_keys')).toBe(1);
    } finally {
      await s.close();
    }
  });

  it('three processes migrating one fresh file at once all succeed, once', async () => {
    const url = `sqlite:${dir}/race/t.db`;
    const child = fileURLToPath(new URL('../support/store-migrate-child.ts', import.meta.url));
    // a common start instant well after every child has loaded, so the migrations really overlap
    const startAt = String(Date.now() + 6000);
    const run = () =>
      new Promise<number | null>((resolve, reject) => {
        const p = spawn(process.execPath, ['--import', 'tsx', child, url, startAt], { stdio: ['ignore', 'ignore', 'inherit'] });
        p.once('error', reject);
        p.once('exit', resolve);
      });
    expect(await Promise.all([run(), run(), run()])).toEqual([0, 0, 0]);
    const s = await openKyselyStore(url);
    try {
      const r = await sql<{ n: number }>`select count(*) as n from kysely_migration`.execute(s.db);
      expect(r.rows[0].n).toBe(MIGRATIONS);
      expect(await s.createUser(user())).toBe(true);
    } finally {
      await s.close();
    }
  });
});

describe.skipIf(!hasPostgres)('PostgreSQL specifics', () => {
  const schemas: string[] = [];
  afterAll(() => dropPgSchemas(schemas));

  it('two concurrent migrate() on a fresh schema both succeed, and the schema holds the tables', async () => {
    const schema = freshPgSchema();
    schemas.push(schema);
    const [a, b] = await Promise.all([openKyselyStore(PG_URL, { pgSchema: schema }), openKyselyStore(PG_URL, { pgSchema: schema })]);
    try {
      await Promise.all([a.migrate(), b.migrate()]);
      const r = await sql<{ n: number }>`select count(*) as n from kysely_migration`.execute(a.db);
      expect(r.rows[0].n).toBe(MIGRATIONS);
      const t = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = ${schema}`.execute(a.db);
      expect(t.rows.map((x) => x.table_name)).toEqual(expect.arrayContaining(['users', 'sessions', 'refresh_tokens', 'events', 'revocations', 'mfa_challenges']));
      expect(await b.createUser(user())).toBe(true);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('parses int8 as numbers on its own pool only, leaving the global pg parser alone', async () => {
    const schema = freshPgSchema();
    schemas.push(schema);
    const s = await openKyselyStore(PG_URL, { pgSchema: schema });
    try {
      const r = await sql<{ v: unknown }>`select 9007199254740991::int8 as v`.execute(s.db);
      expect(r.rows[0].v).toBe(Number.MAX_SAFE_INTEGER);
      expect(pg.types.getTypeParser(pg.types.builtins.INT8, 'text')('5')).toBe('5');
    } finally {
      await s.close();
    }
  });
});
