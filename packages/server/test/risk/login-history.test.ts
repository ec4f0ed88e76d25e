/**
 * A sign-in's risk check reads only what the login rules need of the user's live sessions (the last located
 * one, their user agents): its verdicts must be those of the rules over the full list, which it no longer
 * reads. Random sessions and sign-ins, one verdict compared per case.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { EventLog } from '../../src/core/events.js';
import { RiskService } from '../../src/core/risk-service.js';
import { assessRisk, type RiskObservation, type RiskVerdict } from '../../src/core/risk.js';
import type { RequestContext } from '../../src/core/sessions.js';
import { openStore } from '../../src/store/connect.js';
import type { GeoPoint, Store } from '../../src/store/ports/index.js';
import { HOUR, T0, session, user } from '../support/store-fixtures.js';

const cfg = { minKm: 500, maxKmh: 1000 };
const PLACES: Array<GeoPoint | null> = [
  null,
  { country: 'DE', city: null, lat: null, lon: null, accuracyKm: null },
  { country: 'GB', city: 'London', lat: 51.5, lon: -0.12, accuracyKm: 20 },
  { country: 'AU', city: 'Sydney', lat: -33.87, lon: 151.21, accuracyKm: 20 },
  { country: 'FR', city: 'Paris', lat: 48.85, lon: 2.35, accuracyKm: null },
];
const AGENTS = [
  null,
  'curl/8.5',
  '',
  'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
  'Mozilla/5.0 (X11; Linux x86_64; rv:122.0) Gecko/20100101 Firefox/122.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
];

function rng(seed: number): (n: number) => number {
  let x = seed;
  return (n) => {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    return Math.floor((x / 2_147_483_648) * n); // the high bits: an LCG's low bits repeat quickly
  };
}

describe('risk check of a sign-in', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore('sqlite::memory:');
    await store.migrate();
  });
  afterAll(() => store.close());

  it('decides as the login rules over every live session do', async () => {
    const clock = new FakeClock(T0 + 6 * HOUR);
    const recorded: Array<{ type: string; data: unknown }> = [];
    const events = new EventLog(store, clock);
    events.listeners.push((ev) => recorded.push({ type: ev.type, data: ev.data }));
    const risk = new RiskService(
      {
        users: { getUserById: async () => undefined, setPasswordResetRequired: async () => undefined },
        sessions: store,
        revoker: { revokeAll: async () => [] },
        events,
        mailer: { send: async () => undefined },
        clock,
        onMailError: () => undefined,
      },
      { ...cfg, issuer: 'https://issuer.test' },
    );
    const pick = rng(11);
    let decided = { allow: 0, alert: 0, block: 0 };
    for (let round = 0; round < 150; round++) {
      const u = user();
      await store.createUser(u);
      for (let i = 0; i < pick(6); i++) {
        await store.createSession(session(u.id, {
          createdAt: T0 + pick(3) * 1000,
          lastSeenAt: T0 + pick(7) * HOUR,
          geo: PLACES[pick(PLACES.length)]!,
          userAgent: AGENTS[pick(AGENTS.length)]!,
          revokedAt: pick(5) === 0 ? T0 : null,
        }));
      }
      const ctx: RequestContext = { ip: '198.51.100.7', geo: PLACES[pick(PLACES.length)]!, userAgent: AGENTS[pick(AGENTS.length)]! };
      const history: RiskObservation[] = (await store.listLiveSessions(u.id, clock.now())).map((s) => ({ at: s.lastSeenAt, ip: s.ip, geo: s.geo, userAgent: s.userAgent, kind: 'login' }));
      const expected: RiskVerdict = assessRisk(history, { at: clock.now(), ip: ctx.ip, geo: ctx.geo, userAgent: ctx.userAgent, kind: 'login' }, cfg);
      recorded.length = 0;
      const thrown = await risk.onLogin(u, ctx).then(() => false, () => true);
      decided = { ...decided, [expected.action]: decided[expected.action] + 1 };
      if (expected.action === 'allow') {
        expect(recorded).toEqual([]);
        expect(thrown).toBe(false);
      } else {
        expect(recorded).toEqual([{ type: expected.event, data: { action: expected.action, reason: expected.reason, ...expected.data, user_agent: ctx.userAgent } }]);
        expect(thrown).toBe(expected.action === 'block');
      }
    }
    // the cases cover every verdict
    expect(Math.min(decided.allow, decided.alert, decided.block)).toBeGreaterThan(5);
  });
});
