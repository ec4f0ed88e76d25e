/** Contract: signing keys, the security log, the revocation feed and its order, housekeeping. */
import { describe, expect, it } from 'vitest';
import type { SigningKeyRow } from '../../../src/store/ports/index.js';
import { HOUR, T0, challenge, reset, uid } from '../../support/store-fixtures.js';
import type { ContractContext } from '../contract.js';
import { N } from './constants.js';

const key = (state: SigningKeyRow['state'], createdAt = T0): SigningKeyRow => ({
  kid: uid('kid'),
  alg: 'EdDSA',
  publicJwk: '{"kty":"OKP"}',
  privateSealed: 'sealed',
  state,
  createdAt,
});

export function signingKeys(ctx: ContractContext): void {
  describe('signing keys', () => {
    it('rotates next → current → previous → retired in one step, even when rotations race', async () => {
      const fresh = await ctx.open();
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
}

export function events(ctx: ContractContext): void {
  describe('events', () => {
    it('appends with increasing ids and lists newest first with filters and paging', async () => {
      const userId = uid('usr');
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push(await ctx.store.appendEvent({ userId, sessionId: null, type: i % 2 ? 'login_failed' : 'login', ip: '203.0.113.5', data: { i, nested: { ok: true } }, createdAt: T0 + i }));
      }
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);
      const all = await ctx.store.listEvents({ userId, limit: 10 });
      expect(all.map((e) => e.id)).toEqual([...ids].reverse());
      expect(all[4]).toEqual({ id: ids[0], userId, sessionId: null, type: 'login', ip: '203.0.113.5', data: { i: 0, nested: { ok: true } }, createdAt: T0 });
      expect((await ctx.store.listEvents({ userId, type: 'login_failed', limit: 10 })).map((e) => e.id)).toEqual([ids[3], ids[1]]);
      expect((await ctx.store.listEvents({ userId, limit: 2, beforeId: ids[3] })).map((e) => e.id)).toEqual([ids[2], ids[1]]);
      const typed = await ctx.store.listEvents({ type: 'login_failed', limit: 100 });
      expect(typed.every((e) => e.type === 'login_failed')).toBe(true);
    });
  });
}

export function revocationFeed(ctx: ContractContext): void {
  describe('revocation feed', () => {
    it('appends, lists since a cursor, reports the latest cursor and prunes all but the newest', async () => {
      const fresh = await ctx.open();
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
}

/** bursts of concurrent writers while the reader polls */
const ROUNDS = 5;

export function feedOrder(ctx: ContractContext): void {
  describe('revocation feed order', () => {
    // A reader that moves its `since` past a cursor whose smaller neighbour has not committed yet would
    // never learn of that revocation: appends must commit in cursor order, on every dialect.
    it('race: a reader polling during bursts of 40 concurrent appends and revocations never skips a cursor', async () => {
      const start = await ctx.store.latestRevocationCursor();
      const seen: number[] = [];
      let done = false;
      const reader = (async () => {
        let since = start;
        for (;;) {
          const finished = done;
          const page = await ctx.store.listRevocationsSince(since, 1000);
          seen.push(...page.map((r) => r.cursor));
          since = page.at(-1)?.cursor ?? since;
          if (finished && page.length === 0) return;
        }
      })();
      const writes: Array<number | null> = [];
      for (let round = 0; round < ROUNDS; round++) {
        const sessions = await Promise.all(Array.from({ length: N }, () => ctx.newSession()));
        writes.push(
          ...(await Promise.all([
            ...Array.from({ length: N }, (_, i) => ctx.store.appendRevocation({ sid: null, sub: `u${i}`, revokedAt: T0, until: T0 + HOUR })),
            ...sessions.map((s) => ctx.store.revokeSession(s.sessionId, 'logout', T0, T0 + HOUR)),
          ])),
        );
      }
      done = true;
      await reader;
      const cursors = writes.filter((c): c is number => c !== null).sort((a, b) => a - b);
      expect(cursors).toHaveLength(2 * N * ROUNDS);
      expect(seen.filter((c) => cursors.includes(c))).toEqual(cursors);
    });
  });
}

export function housekeeping(ctx: ContractContext): void {
  describe('housekeeping', () => {
    it('pruneExpired deletes only expired challenges and reset links', async () => {
      const userId = await ctx.newUser();
      const expired = challenge(userId, { expiresAt: T0 - 1 });
      const live = challenge(userId, { expiresAt: T0 + HOUR });
      const oldReset = reset(userId, { expiresAt: T0 - 1 });
      const liveReset = reset(userId, { expiresAt: T0 + HOUR });
      for (const c of [expired, live]) await ctx.store.insertMfaChallenge(c);
      for (const r of [oldReset, liveReset]) await ctx.store.insertPasswordReset(r);
      expect(await ctx.store.pruneExpired(T0)).toBeGreaterThanOrEqual(2);
      expect(await ctx.store.getMfaChallenge(expired.id)).toBeUndefined();
      expect(await ctx.store.getPasswordReset(oldReset.id)).toBeUndefined();
      expect(await ctx.store.getMfaChallenge(live.id)).toBeDefined();
      expect(await ctx.store.getPasswordReset(liveReset.id)).toBeDefined();
    });
  });
}
