/**
 * Contract: housekeeping batches (store/ports/housekeeping.ts). Each test works on a fresh database, so what a
 * batch may delete is exactly what the test put there: the rows before the cut-off go, nothing live does.
 */
import { describe, expect, it } from 'vitest';
import type { AuthCodeRow, Store } from '../../../src/store/ports/index.js';
import { HOUR, T0, challenge, refresh, reset, session, uid, user } from '../../support/store-fixtures.js';
import type { ContractContext } from '../contract.js';

const MIN = 60_000;

function code(over: Partial<AuthCodeRow> = {}): AuthCodeRow {
  return {
    id: uid('code'), secretHash: uid('h'), clientId: 'app_x', userId: 'usr_x', redirectUri: 'http://localhost/cb', codeChallenge: 'c', nonce: null, scope: 'openid',
    resource: null, authTime: T0, amr: ['pwd'], ip: '127.0.0.1', userAgent: null, createdAt: T0, expiresAt: T0 + MIN, usedAt: null, sessionId: null, ...over,
  };
}

async function withFresh(ctx: ContractContext, fn: (s: Store, userId: string) => Promise<void>): Promise<void> {
  const s = await ctx.open();
  await s.migrate();
  const u = user();
  await s.createUser(u);
  await fn(s, u.id);
}

/** drains a target in batches of `limit`; returns the batch sizes */
async function drain(s: Store, target: Parameters<Store['pruneBatch']>[0], before: number, limit = 500): Promise<number[]> {
  const sizes: number[] = [];
  for (;;) {
    const n = await s.pruneBatch(target, { before }, limit);
    sizes.push(n);
    if (n < limit) return sizes;
  }
}

export function housekeepingBatches(ctx: ContractContext): void {
  describe('housekeeping batches', () => {
    it('a used token past its grace window has no sealed successor; one inside it and unused tokens keep theirs', async () => {
      await withFresh(ctx, async (s, userId) => {
        const ses = session(userId);
        await s.createSession(ses);
        const old = refresh(ses.id, { usedAt: T0 - 2 * MIN, usedBy: 'ua:x', successorId: 'rt_next1', successorSealed: 'sealed-old' });
        const recent = refresh(ses.id, { usedAt: T0, usedBy: 'ua:x', successorId: 'rt_next2', successorSealed: 'sealed-recent' });
        const unused = refresh(ses.id);
        for (const r of [old, recent, unused]) await s.insertRefreshToken(r);
        expect(await drain(s, 'sealedSuccessors', T0 - MIN)).toEqual([1]);
        // the used row stays (reuse detection), only the sealed pair is gone
        expect(await s.getRefreshToken(old.id)).toEqual({ ...old, successorSealed: null });
        expect(await s.getRefreshToken(recent.id)).toEqual(recent);
        expect(await s.getRefreshToken(unused.id)).toEqual(unused);
        // `from` skips what was cleared already
        expect(await s.pruneBatch('sealedSuccessors', { from: T0 + 1, before: T0 + MIN }, 10)).toBe(0);
        expect(await s.pruneBatch('sealedSuccessors', { from: T0, before: T0 + MIN }, 10)).toBe(1);
      });
    });

    it('used refresh tokens go after their cut-off; unused ones never, whatever their age', async () => {
      await withFresh(ctx, async (s, userId) => {
        const ses = session(userId);
        await s.createSession(ses);
        const spent = refresh(ses.id, { createdAt: T0 - 9 * HOUR, usedAt: T0 - 2 * HOUR, usedBy: 'ua:x' });
        const recent = refresh(ses.id, { usedAt: T0, usedBy: 'ua:x' });
        const live = refresh(ses.id, { createdAt: T0 - 10 * HOUR });
        for (const r of [spent, recent, live]) await s.insertRefreshToken(r);
        expect(await drain(s, 'usedRefreshTokens', T0 - HOUR)).toEqual([1]);
        expect((await s.listRefreshTokens(ses.id)).map((r) => r.id).sort()).toEqual([recent.id, live.id].sort());
      });
    });

    it('revoked and long-idle sessions go with their refresh tokens; live sessions stay', async () => {
      await withFresh(ctx, async (s, userId) => {
        const revoked = session(userId, { revokedAt: T0 - 2 * HOUR, revokeReason: 'logout' });
        const revokedLately = session(userId, { revokedAt: T0, revokeReason: 'logout' });
        const idle = session(userId, { lastSeenAt: T0 - 48 * HOUR });
        const live = session(userId, { lastSeenAt: T0 });
        for (const x of [revoked, revokedLately, idle, live]) {
          await s.createSession(x);
          await s.insertRefreshToken(refresh(x.id));
        }
        await s.insertOAuthSession({ sessionId: revoked.id, clientId: 'app_x', userId, scope: 'openid', resource: null, createdAt: T0 });
        expect(await drain(s, 'revokedSessions', T0 - HOUR)).toEqual([1]);
        expect(await drain(s, 'idleSessions', T0 - 24 * HOUR)).toEqual([1]);
        expect(await s.getSession(revoked.id)).toBeUndefined();
        expect(await s.listRefreshTokens(revoked.id)).toEqual([]);
        expect(await s.getOAuthSession(revoked.id)).toBeUndefined();
        expect(await s.getSession(idle.id)).toBeUndefined();
        for (const x of [revokedLately, live]) {
          expect(await s.getSession(x.id)).toEqual(x);
          expect(await s.listRefreshTokens(x.id)).toHaveLength(1);
        }
      });
    });

    it('expired challenges, reset links and authorization codes go; live ones stay', async () => {
      await withFresh(ctx, async (s, userId) => {
        const [oldC, liveC] = [challenge(userId, { expiresAt: T0 - HOUR }), challenge(userId, { expiresAt: T0 + HOUR })];
        const [oldR, liveR] = [reset(userId, { expiresAt: T0 - HOUR }), reset(userId, { expiresAt: T0 + HOUR })];
        const [oldK, liveK] = [code({ expiresAt: T0 - HOUR, usedAt: T0 - 2 * HOUR }), code({ expiresAt: T0 + HOUR })];
        for (const c of [oldC, liveC]) await s.insertMfaChallenge(c);
        for (const r of [oldR, liveR]) await s.insertPasswordReset(r);
        for (const k of [oldK, liveK]) await s.insertCode(k);
        expect(await drain(s, 'mfaChallenges', T0)).toEqual([1]);
        expect(await drain(s, 'passwordResets', T0)).toEqual([1]);
        expect(await drain(s, 'oauthCodes', T0)).toEqual([1]);
        expect(await s.getMfaChallenge(oldC.id)).toBeUndefined();
        expect(await s.getPasswordReset(oldR.id)).toBeUndefined();
        expect(await s.getCode(oldK.id)).toBeUndefined();
        expect(await s.getMfaChallenge(liveC.id)).toBeDefined();
        expect(await s.getPasswordReset(liveR.id)).toBeDefined();
        expect(await s.getCode(liveK.id)).toBeDefined();
      });
    });

    it('expired email-verification and email-change links go; live ones stay', async () => {
      await withFresh(ctx, async (s, userId) => {
        const link = (expiresAt: number) => ({ id: uid('ev'), userId, email: 'a@example.com', secretHash: uid('h'), createdAt: T0 - 2 * HOUR, expiresAt, usedAt: null });
        const change = (expiresAt: number) => ({ id: uid('ec'), userId, newEmail: 'b@example.com', secretHash: uid('h'), createdAt: T0 - 2 * HOUR, expiresAt, usedAt: null });
        const [oldV, liveV] = [link(T0 - HOUR), link(T0 + HOUR)];
        const [oldE, liveE] = [change(T0 - HOUR), change(T0 + HOUR)];
        for (const v of [oldV, liveV]) await s.insertEmailVerification(v);
        for (const e of [oldE, liveE]) await s.insertEmailChange(e);
        expect(await drain(s, 'emailVerifications', T0)).toEqual([1]);
        expect(await drain(s, 'emailChanges', T0)).toEqual([1]);
        expect(await s.getEmailVerification(oldV.id)).toBeUndefined();
        expect(await s.getEmailChange(oldE.id)).toBeUndefined();
        expect(await s.getEmailVerification(liveV.id)).toBeDefined();
        expect(await s.getEmailChange(liveE.id)).toBeDefined();
      });
    });

    it('events before the retention cut-off go, in batches of the given size, oldest first', async () => {
      await withFresh(ctx, async (s, userId) => {
        for (let i = 0; i < 5; i++) await s.appendEvent({ userId, sessionId: null, type: 'login', ip: null, data: { i }, createdAt: T0 - (10 - i) * HOUR });
        const kept = await s.appendEvent({ userId, sessionId: null, type: 'login', ip: null, data: {}, createdAt: T0 });
        expect(await drain(s, 'events', T0 - HOUR, 2)).toEqual([2, 2, 1]);
        expect((await s.listEvents({ userId, limit: 10 })).map((e) => e.id)).toEqual([kept]);
      });
    });

    it('concurrent batches never take the same rows: the counts add up to exactly what was there', async () => {
      await withFresh(ctx, async (s, userId) => {
        const ROWS = 40;
        for (let i = 0; i < ROWS; i++) await s.appendEvent({ userId, sessionId: null, type: 'x', ip: null, data: {}, createdAt: T0 - HOUR - i });
        const counts = await Promise.all(Array.from({ length: 8 }, () => s.pruneBatch('events', { before: T0 }, 3)));
        let rest = 0;
        for (let n = -1; n !== 0; rest += n) n = await s.pruneBatch('events', { before: T0 }, 3);
        expect(counts.reduce((a, b) => a + b, 0) + rest).toBe(ROWS);
        expect(await s.listEvents({ userId, limit: 100 })).toEqual([]);
        await s.compact();
      });
    });
  });
}
