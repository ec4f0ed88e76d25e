/**
 * Contract: what a sign-in's risk check reads of a user's live sessions (lastLocatedSession,
 * liveUserAgents) is what the login rules would find in listLiveSessions, on a mix of sessions with ties,
 * places without coordinates, missing user agents, revoked, expired and other users' sessions.
 */
import { describe, expect, it } from 'vitest';
import type { GeoPoint, SessionRow } from '../../../src/store/ports/index.js';
import { HOUR, T0, session } from '../../support/store-fixtures.js';
import type { ContractContext } from '../contract.js';

const PLACES: Array<GeoPoint | null> = [
  null,
  { country: 'DE', city: null, lat: null, lon: null, accuracyKm: null },
  { country: 'GB', city: 'London', lat: 51.5, lon: -0.12, accuracyKm: 20 },
  { country: 'FR', city: 'Paris "lat":null', lat: 48.85, lon: 2.35, accuracyKm: null },
  { country: 'US', city: null, lat: 40.7, lon: null, accuracyKm: null },
  { country: 'JP', city: 'Tokyo', lat: 35.7, lon: 139.7, accuracyKm: 5 },
];
const AGENTS = [null, 'vitest', 'Vitest', 'curl/8.5', 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0'];

/** a small deterministic generator, so a failure reproduces */
function rng(seed: number): (n: number) => number {
  let x = seed;
  return (n) => {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    return Math.floor((x / 2_147_483_648) * n); // the high bits: an LCG's low bits repeat quickly
  };
}

/** the reference: the last located of the full list, as core/risk.ts picks it (newest-first list, `>=`) */
function reference(live: SessionRow[], now: number): SessionRow | undefined {
  let best: SessionRow | undefined;
  for (const s of live) if (s.geo !== null && s.geo.lat !== null && s.geo.lon !== null && s.lastSeenAt <= now && (!best || s.lastSeenAt >= best.lastSeenAt)) best = s;
  return best;
}

export function loginHistory(ctx: ContractContext): void {
  describe('login history (the risk check of a sign-in)', () => {
    it('answers what the full list of live sessions answers', async () => {
      const pick = rng(7);
      const now = T0 + 10 * HOUR;
      for (let round = 0; round < 6; round++) {
        const userId = await ctx.newUser();
        const other = await ctx.newUser();
        const rows: SessionRow[] = [];
        for (let i = 0; i < 12 + round * 4; i++) {
          const fate = pick(6);
          rows.push(session(fate === 5 ? other : userId, {
            createdAt: T0 + pick(4) * 1000,
            lastSeenAt: T0 + pick(5) * HOUR + (pick(3) === 0 ? 20 * HOUR : 0),
            geo: PLACES[pick(PLACES.length)]!,
            userAgent: AGENTS[pick(AGENTS.length)]!,
            expiresAt: fate === 4 ? T0 + HOUR : T0 + 48 * HOUR,
            revokedAt: fate === 3 ? T0 : null,
            revokeReason: fate === 3 ? 'logout' : null,
          }));
        }
        for (const s of rows) await ctx.store.createSession(s);
        const live = await ctx.store.listLiveSessions(userId, now);
        expect(await ctx.store.lastLocatedSession(userId, now)).toEqual(reference(live, now));
        const agents = [...new Set(live.map((s) => s.userAgent))];
        for (const ua of ['vitest', 'Vitest', 'curl/8.5', 'never-seen']) {
          const got = await ctx.store.liveUserAgents(userId, now, ua);
          if (agents.includes(ua)) expect(got).toEqual([ua]);
          else expect(new Set(got)).toEqual(new Set(agents));
          expect(new Set(got).size).toBe(got.length);
        }
      }
    });
    it('of several last seen at the same instant, the earliest created wins; none without sessions', async () => {
      const userId = await ctx.newUser();
      expect(await ctx.store.lastLocatedSession(userId, T0)).toBeUndefined();
      expect(await ctx.store.liveUserAgents(userId, T0, 'vitest')).toEqual([]);
      const later = session(userId, { createdAt: T0 + 5, lastSeenAt: T0 + HOUR });
      const earlier = session(userId, { createdAt: T0 + 1, lastSeenAt: T0 + HOUR });
      for (const s of [later, earlier]) await ctx.store.createSession(s);
      expect((await ctx.store.lastLocatedSession(userId, T0 + 2 * HOUR))?.id).toBe(earlier.id);
      // seen after `now` (another node's clock): not a history yet
      expect(await ctx.store.lastLocatedSession(userId, T0 + HOUR - 1)).toBeUndefined();
    });
  });
}
