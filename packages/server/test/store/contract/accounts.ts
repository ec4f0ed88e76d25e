/** Contract: lifecycle, users, sessions with their refresh families and durable revocation, clients. */
import { describe, expect, it } from 'vitest';
import { HOUR, T0, refresh, session, uid, user } from '../../support/store-fixtures.js';
import type { ContractContext } from '../contract.js';
import { MIGRATIONS, N, REFRESH_RACERS } from './constants.js';

export function lifecycle(ctx: ContractContext): void {
  describe('lifecycle', () => {
    it('migrate twice is a no-op', async () => {
      await ctx.store.migrate();
      await ctx.store.migrate();
      expect(await ctx.inspect.migrations()).toBe(MIGRATIONS);
    });
    it('ping answers', async () => {
      await expect(ctx.store.ping()).resolves.toBeUndefined();
    });
  });
}

export function users(ctx: ContractContext): void {
  describe('users', () => {
    it('creates and reads back by id and by email', async () => {
      const u = user({ isAdmin: true });
      expect(await ctx.store.createUser(u)).toBe(true);
      expect(await ctx.store.getUserById(u.id)).toEqual(u);
      expect(await ctx.store.getUserByEmail(u.email)).toEqual(u);
      expect(await ctx.store.getUserById('nope')).toBeUndefined();
      expect(await ctx.store.getUserByEmail('nope@example.test')).toBeUndefined();
    });
    it('returns false for a taken email, and rethrows other constraint violations', async () => {
      const u = user();
      expect(await ctx.store.createUser(u)).toBe(true);
      expect(await ctx.store.createUser(user({ email: u.email }))).toBe(false);
      await expect(ctx.store.createUser(user({ id: u.id }))).rejects.toThrow();
    });
    it('concurrent sign-ups with one email: exactly one wins', async () => {
      const email = `${uid('race')}@example.test`;
      const results = await Promise.all(Array.from({ length: N }, () => ctx.store.createUser(user({ email }))));
      expect(results.filter(Boolean)).toHaveLength(1);
    });
    it('updates the password hash and the reset flag', async () => {
      const id = await ctx.newUser();
      await ctx.store.setPasswordHash(id, 'new-hash');
      await ctx.store.setPasswordResetRequired(id, true);
      expect(await ctx.store.getUserById(id)).toMatchObject({ passwordHash: 'new-hash', passwordResetRequired: true });
      await ctx.store.setPasswordResetRequired(id, false);
      expect((await ctx.store.getUserById(id))!.passwordResetRequired).toBe(false);
    });
    it('stores an unverified legacy account as such', async () => {
      const u = user({ emailVerifiedAt: null, legacy: true });
      expect(await ctx.store.createUser(u)).toBe(true);
      expect(await ctx.store.getUserById(u.id)).toEqual(u);
    });
    it('marks the email verified once: only the first proof learns it had never been verified', async () => {
      const u = user({ emailVerifiedAt: null });
      await ctx.store.createUser(u);
      expect(await ctx.store.markEmailVerified(u.id, T0 + 5)).toBe(true);
      expect(await ctx.store.markEmailVerified(u.id, T0 + 6)).toBe(false);
      expect((await ctx.store.getUserById(u.id))!.emailVerifiedAt).toBe(T0 + 5);
      expect(await ctx.store.markEmailVerified('nope', T0)).toBe(false);
    });
    it('race: 20 concurrent verifications → exactly one learns the account was unverified', async () => {
      const u = user({ emailVerifiedAt: null });
      await ctx.store.createUser(u);
      const results = await Promise.all(Array.from({ length: N }, (_, i) => ctx.store.markEmailVerified(u.id, T0 + i)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });
  });
}

export function userListing(ctx: ContractContext): void {
  describe('user listing', () => {
    it('pages by (created_at, id) with an opaque cursor, and finds by email prefix or exact id', async () => {
      const tag = uid('list').toLowerCase();
      const made = [2, 0, 1, 1, 3].map((i, n) => user({ email: `${tag}-${n}@example.test`, createdAt: T0 - 10_000 + i }));
      for (const u of made) expect(await ctx.store.createUser(u)).toBe(true);
      const expected = [...made].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1)).map((u) => u.id);
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = await ctx.store.listUsers({ query: tag, limit: 2, ...(cursor !== undefined ? { cursor } : {}) });
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((u) => u.id));
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
      }
      expect(seen).toEqual(expected);
      const byId = await ctx.store.listUsers({ query: made[3].id, limit: 10 });
      expect(byId).toEqual({ items: [made[3]], nextCursor: null });
      expect((await ctx.store.listUsers({ query: `${tag}_%`, limit: 10 })).items).toEqual([]);
      const all = await ctx.store.listUsers({ limit: 1 });
      expect(all.items).toHaveLength(1);
      expect(all.nextCursor).toEqual(expect.any(String));
    });
  });
}

export function sessions(ctx: ContractContext): void {
  describe('sessions', () => {
    it('round-trips every field, including JSON geo and amr', async () => {
      const userId = await ctx.newUser();
      const s = session(userId, { dpopJkt: 'jkt', transport: 'cookie' });
      await ctx.store.createSession(s);
      expect(await ctx.store.getSession(s.id)).toEqual(s);
      const bare = session(userId, { geo: null, ip: null, userAgent: null, amr: [] });
      await ctx.store.createSession(bare);
      expect(await ctx.store.getSession(bare.id)).toEqual(bare);
      expect(await ctx.store.getSession('nope')).toBeUndefined();
    });
    it('refuses a session of an unknown user (foreign keys are on)', async () => {
      await expect(ctx.store.createSession(session('no-such-user'))).rejects.toThrow();
    });
    it('lists live sessions newest first, without revoked, expired or other users’ sessions', async () => {
      const userId = await ctx.newUser();
      const other = await ctx.newUser();
      const older = session(userId, { createdAt: T0 });
      const newer = session(userId, { createdAt: T0 + 1000 });
      const expired = session(userId, { expiresAt: T0 + HOUR });
      const revoked = session(userId, { revokedAt: T0, revokeReason: 'logout' });
      for (const s of [older, newer, expired, revoked, session(other)]) await ctx.store.createSession(s);
      const live = await ctx.store.listLiveSessions(userId, T0 + 2 * HOUR);
      expect(live.map((s) => s.id)).toEqual([newer.id, older.id]);
    });
    it('touches last-seen, ip, geo and user agent', async () => {
      const { sessionId } = await ctx.newSession();
      await ctx.store.touchSession(sessionId, { lastSeenAt: T0 + 5, ip: '198.51.100.1', geo: null, userAgent: 'ua2' });
      expect(await ctx.store.getSession(sessionId)).toMatchObject({ lastSeenAt: T0 + 5, ip: '198.51.100.1', geo: null, userAgent: 'ua2' });
    });
    it('revokes once; an expired session is not revoked', async () => {
      const { userId, sessionId } = await ctx.newSession();
      expect(await ctx.store.revokeSession(sessionId, 'logout', T0 + 1, T0 + HOUR)).not.toBeNull();
      expect(await ctx.store.revokeSession(sessionId, 'again', T0 + 2, T0 + HOUR)).toBeNull();
      expect(await ctx.store.getSession(sessionId)).toMatchObject({ revokedAt: T0 + 1, revokeReason: 'logout' });
      const old = session(userId, { expiresAt: T0 + 10 });
      await ctx.store.createSession(old);
      expect(await ctx.store.revokeSession(old.id, 'logout', T0 + 20, T0 + HOUR)).toBeNull();
    });
    it('revokes all live sessions of a user except one', async () => {
      const userId = await ctx.newUser();
      const [a, b, c] = [session(userId), session(userId), session(userId)];
      for (const s of [a, b, c]) await ctx.store.createSession(s);
      await ctx.store.revokeSession(c.id, 'logout', T0, T0 + HOUR);
      const ids = await ctx.store.revokeUserSessions(userId, 'password_changed', T0 + 1, T0 + HOUR, a.id);
      expect(ids.map((r) => r.sid)).toEqual([b.id]);
      expect((await ctx.store.getSession(a.id))!.revokedAt).toBeNull();
      expect((await ctx.store.revokeUserSessions(userId, 'all', T0 + 2, T0 + HOUR)).map((r) => r.sid)).toEqual([a.id]);
    });
  });
}

export function durableRevocation(ctx: ContractContext): void {
  describe('revocation is durable first', () => {
    it('a revoked session and its feed row commit together; the cursor is returned', async () => {
      const { userId, sessionId } = await ctx.newSession();
      const before = await ctx.store.latestRevocationCursor();
      const cursor = await ctx.store.revokeSession(sessionId, 'logout', T0 + 1, T0 + HOUR);
      expect(cursor).toBeGreaterThan(before);
      const feed = await ctx.store.listRevocationsSince(cursor! - 1, 10);
      expect(feed[0]).toEqual({ cursor, sid: sessionId, sub: null, revokedAt: T0 + 1, until: T0 + HOUR });
      const [a, b] = [session(userId), session(userId)];
      for (const s of [a, b]) await ctx.store.createSession(s);
      const rows = await ctx.store.revokeUserSessions(userId, 'all', T0 + 2, T0 + 2 * HOUR);
      expect(rows.map((r) => r.sid).sort()).toEqual([a.id, b.id].sort());
      const listed = await ctx.store.listRevocationsSince(cursor!, 10);
      expect(listed.filter((r) => rows.some((x) => x.cursor === r.cursor && x.sid === r.sid))).toHaveLength(2);
      expect(await ctx.store.revokeUserSessions(userId, 'again', T0 + 3, T0 + HOUR)).toEqual([]);
    });
    it('race: 20 concurrent revocations of one session → one cursor, one feed row', async () => {
      const { sessionId } = await ctx.newSession();
      const before = await ctx.store.latestRevocationCursor();
      const results = await Promise.all(Array.from({ length: N }, (_, i) => ctx.store.revokeSession(sessionId, `r${i}`, T0 + 1, T0 + HOUR)));
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      const rows = (await ctx.store.listRevocationsSince(before, 1000)).filter((r) => r.sid === sessionId);
      expect(rows.map((r) => r.cursor)).toEqual(results.filter((r) => r !== null));
    });
  });
}

export function refreshTokens(ctx: ContractContext): void {
  describe('refresh tokens', () => {
    it('inserts, reads and rotates once', async () => {
      const { sessionId } = await ctx.newSession();
      const t = refresh(sessionId);
      await ctx.store.insertRefreshToken(t);
      expect(await ctx.store.getRefreshToken(t.id)).toEqual(t);
      const next = refresh(sessionId, { parentId: t.id, createdAt: T0 + 1 });
      expect(await ctx.store.rotateRefreshToken({ id: t.id, usedAt: T0 + 1, usedBy: 'jkt', successor: next, successorSealed: 'sealed' })).toBe(true);
      expect(await ctx.store.getRefreshToken(t.id)).toMatchObject({ usedAt: T0 + 1, usedBy: 'jkt', successorId: next.id, successorSealed: 'sealed' });
      expect(await ctx.store.getRefreshToken(next.id)).toEqual(next);
      const other = refresh(sessionId, { parentId: t.id });
      expect(await ctx.store.rotateRefreshToken({ id: t.id, usedAt: T0 + 2, usedBy: 'x', successor: other, successorSealed: null })).toBe(false);
      expect(await ctx.store.getRefreshToken(other.id)).toBeUndefined();
      expect((await ctx.store.getRefreshToken(t.id))!.usedBy).toBe('jkt');
      expect(await ctx.store.listRefreshTokens(sessionId)).toEqual([await ctx.store.getRefreshToken(t.id), next]);
      expect(await ctx.store.listRefreshTokens('nope')).toEqual([]);
    });
    it('reads a token with its session, user and OAuth holder in one call; undefined when any is missing', async () => {
      const u = user({ isAdmin: true, disabledAt: T0 + 3 });
      await ctx.store.createUser(u);
      const s = session(u.id, { dpopJkt: 'jkt', revokedAt: T0 + 4, revokeReason: 'why' });
      await ctx.store.createSession(s);
      const t = refresh(s.id, { usedAt: T0 + 1, usedBy: 'ua:x', successorId: 'next', successorSealed: 'sealed', parentId: 'parent' });
      await ctx.store.insertRefreshToken(t);
      expect(await ctx.store.getRefreshFamily(t.id)).toEqual({ token: t, session: s, user: u, oauthClientId: null });
      await ctx.store.insertOAuthSession({ sessionId: s.id, clientId: 'cli_notes', userId: u.id, scope: 'openid', resource: null, createdAt: T0 });
      expect((await ctx.store.getRefreshFamily(t.id))?.oauthClientId).toBe('cli_notes');
      expect(await ctx.store.getRefreshFamily(uid('rt'))).toBeUndefined();
      // a second session's token reads its own session (the join is by the token's session)
      const other = session(u.id, { geo: null, amr: [] });
      await ctx.store.createSession(other);
      const t2 = refresh(other.id);
      await ctx.store.insertRefreshToken(t2);
      expect(await ctx.store.getRefreshFamily(t2.id)).toEqual({ token: t2, session: other, user: u, oauthClientId: null });
    });
    it('a winning rotation touches the session; a losing one leaves it and inserts nothing', async () => {
      const { sessionId } = await ctx.newSession();
      const t = refresh(sessionId);
      await ctx.store.insertRefreshToken(t);
      const touch = { lastSeenAt: T0 + 7, ip: '198.51.100.7', geo: { country: 'FR', city: 'Paris', lat: 48.9, lon: 2.35, accuracyKm: 5 }, userAgent: 'winner' };
      const next = refresh(sessionId, { parentId: t.id, createdAt: T0 + 7 });
      expect(await ctx.store.rotateRefreshToken({ id: t.id, usedAt: T0 + 7, usedBy: 'w', successor: next, successorSealed: 'sealed', touch })).toBe(true);
      expect(await ctx.store.getSession(sessionId)).toMatchObject(touch);
      expect(await ctx.store.getRefreshToken(next.id)).toEqual(next);
      const lost = refresh(sessionId, { parentId: t.id });
      const late = { lastSeenAt: T0 + 9, ip: '192.0.2.9', geo: null, userAgent: 'loser' };
      expect(await ctx.store.rotateRefreshToken({ id: t.id, usedAt: T0 + 9, usedBy: 'l', successor: lost, successorSealed: null, touch: late })).toBe(false);
      expect(await ctx.store.getSession(sessionId)).toMatchObject(touch);
      expect(await ctx.store.getRefreshToken(lost.id)).toBeUndefined();
      expect(await ctx.store.getRefreshToken(t.id)).toMatchObject({ usedAt: T0 + 7, usedBy: 'w', successorId: next.id, successorSealed: 'sealed' });
    });
    it('race: 50 concurrent rotations of one token → exactly one wins, one successor row', async () => {
      const { sessionId } = await ctx.newSession();
      const t = refresh(sessionId);
      await ctx.store.insertRefreshToken(t);
      const results = await Promise.all(
        Array.from({ length: REFRESH_RACERS }, (_, i) =>
          ctx.store.rotateRefreshToken({ id: t.id, usedAt: T0 + i, usedBy: `c${i}`, successor: refresh(sessionId, { parentId: t.id }), successorSealed: null }),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const children = (await ctx.store.listRefreshTokens(sessionId)).filter((row) => row.parentId === t.id);
      expect(children).toHaveLength(1);
      expect((await ctx.store.getRefreshToken(t.id))!.successorId).toBe(children[0].id);
    });
    it('race: concurrent transactions do not interleave; a failing one rolls back only itself', async () => {
      const { sessionId } = await ctx.newSession();
      const tokens = Array.from({ length: N }, () => refresh(sessionId));
      for (const t of tokens) await ctx.store.insertRefreshToken(t);
      const doomed = refresh(sessionId);
      await ctx.store.insertRefreshToken(doomed);
      // the successor id collides with an existing row, so the insert after the update fails
      const failing = ctx.store.rotateRefreshToken({ id: doomed.id, usedAt: T0, usedBy: 'x', successor: refresh(sessionId, { id: tokens[0].id }), successorSealed: null });
      const ok = tokens.map((t) => ctx.store.rotateRefreshToken({ id: t.id, usedAt: T0, usedBy: 'y', successor: refresh(sessionId, { parentId: t.id }), successorSealed: null }));
      const [failed, ...rest] = await Promise.allSettled([failing, ...ok]);
      expect(failed.status).toBe('rejected');
      expect(rest.map((r) => (r.status === 'fulfilled' ? r.value : r.reason))).toEqual(tokens.map(() => true));
      expect((await ctx.store.getRefreshToken(doomed.id))!.usedAt).toBeNull();
      for (const t of tokens) expect((await ctx.store.getRefreshToken(t.id))!.successorId).not.toBeNull();
    });
  });
}

export function clients(ctx: ContractContext): void {
  describe('clients', () => {
    it('creates and reads a client', async () => {
      const c = { id: uid('cli'), name: 'notes', secretHash: 'h', createdAt: T0 };
      await ctx.store.createClient(c);
      expect(await ctx.store.getClient(c.id)).toEqual(c);
      expect(await ctx.store.getClient('nope')).toBeUndefined();
    });
    it('lists clients oldest first and deletes once', async () => {
      const a = { id: uid('cli'), name: 'a', secretHash: 'h', createdAt: T0 - 2 };
      const b = { id: uid('cli'), name: 'b', secretHash: 'h', createdAt: T0 - 1 };
      for (const x of [b, a]) await ctx.store.createClient(x);
      const ids = (await ctx.store.listClients()).map((x) => x.id);
      expect(ids.indexOf(a.id)).toBeLessThan(ids.indexOf(b.id));
      expect(await ctx.store.deleteClient(a.id)).toBe(true);
      expect(await ctx.store.deleteClient(a.id)).toBe(false);
      expect(await ctx.store.getClient(a.id)).toBeUndefined();
      expect((await ctx.store.listClients()).map((x) => x.id)).not.toContain(a.id);
    });
  });
}
