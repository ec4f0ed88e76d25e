/**
 * Data lifecycle end to end: real sign-ins and refreshes on each database, then housekeeping passes at later
 * times (a fake clock). What a pass removes can never be used again; what is live keeps working.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CLOCK_SKEW_MS, Housekeeper, lifecyclePolicy } from '../../src/core/housekeeping.js';
import { FakeClock } from '../../src/lib/clock.js';
import { DB_KINDS, dbUnavailable, http, startServer, type TestServer } from '../support/server.js';
import { signUp } from '../support/users.js';

const PASSWORD = 'correct horse battery staple';
const UA = { 'user-agent': 'lifecycle' };
const HOUR = 3_600_000;

for (const db of DB_KINDS) {
  describe.skipIf(dbUnavailable(db))(`data lifecycle (${db})`, () => {
    let s: TestServer | undefined;
    afterEach(async () => {
      await s?.close();
      s = undefined;
    });

    async function setUp(env: Record<string, string> = {}) {
      const clock = new FakeClock(Date.now());
      s = await startServer({ db, clock, env: { TESSERA_REFRESH_GRACE: '10', TESSERA_SESSION_IDLE_TTL: '86400', TESSERA_ENDED_SESSION_RETENTION: '3600', ...env } });
      const housekeeper = new Housekeeper(s.t.store, clock, lifecyclePolicy(s.t.config));
      const email = `lc${Math.random().toString(36).slice(2)}@example.com`;
      await signUp(s, email, PASSWORD);
      const login = await http(s.url, 'POST', '/v1/login', { json: { email, password: PASSWORD }, headers: UA });
      expect(login.status).toBe(200);
      return { server: s, clock, housekeeper, first: login.body as { refresh_token: string; access_token: string; session_id: string } };
    }

    const refresh = (server: TestServer, token: string) => http(server.url, 'POST', '/v1/token', { json: { grant_type: 'refresh_token', refresh_token: token }, headers: UA });

    it('a used token past its grace window has no sealed successor; the live successor still refreshes', async () => {
      const { server, clock, housekeeper, first } = await setUp();
      const r1 = await refresh(server, first.refresh_token);
      expect(r1.status).toBe(200);
      const usedId = first.refresh_token.split('.')[0] ?? '';
      // inside the window the pair is there for a same-client retry
      clock.advance(5000);
      await housekeeper.runOnce();
      expect((await refresh(server, first.refresh_token)).body.refresh_token).toBe(r1.body.refresh_token);
      // kept a little longer, for nodes whose clocks run behind this one's
      clock.advance(5000 + CLOCK_SKEW_MS - 1000);
      await housekeeper.runOnce();
      expect((await server.t.store.getRefreshToken(usedId))?.successorSealed).not.toBeNull();
      clock.advance(2000);
      await housekeeper.runOnce();
      const used = await server.t.store.getRefreshToken(usedId);
      expect(used?.usedAt).not.toBeNull();
      expect(used?.successorSealed).toBeNull();
      const r2 = await refresh(server, r1.body.refresh_token);
      expect(r2.status).toBe(200);
    });

    it('a session in use is never pruned, however long it lives; its old used tokens are; once ended it goes', async () => {
      const { server, clock, housekeeper, first } = await setUp({ TESSERA_REFRESH_TTL: String(14 * 86400) });
      let token = first.refresh_token;
      let access = first.access_token;
      for (let day = 0; day < 4; day++) {
        clock.advance(20 * HOUR);
        const r = await refresh(server, token);
        expect(r.status).toBe(200);
        [token, access] = [r.body.refresh_token, r.body.access_token];
        await housekeeper.runOnce();
      }
      expect(await server.t.store.getSession(first.session_id)).toBeDefined();
      // used more than the idle lifetime ago: gone; the newest used one and the live one stay
      const rows = await server.t.store.listRefreshTokens(first.session_id);
      expect(rows.filter((r) => r.usedAt === null)).toHaveLength(1);
      expect(rows.length).toBeLessThanOrEqual(3);
      const me = await http(server.url, 'GET', '/v1/me', { headers: { authorization: `Bearer ${access}` } });
      expect(me.status).toBe(200);
      expect((await http(server.url, 'POST', '/v1/logout', { headers: { authorization: `Bearer ${access}` } })).status).toBe(204);
      await housekeeper.runOnce();
      expect(await server.t.store.getSession(first.session_id)).toBeDefined();
      clock.advance(HOUR + 1000);
      await housekeeper.runOnce();
      expect(await server.t.store.getSession(first.session_id)).toBeUndefined();
      expect(await server.t.store.listRefreshTokens(first.session_id)).toEqual([]);
      expect((await refresh(server, token)).status).toBe(400);
    });

    it('events older than TESSERA_EVENT_RETENTION_DAYS are deleted, newer ones kept', async () => {
      const { server, clock, housekeeper } = await setUp({ TESSERA_EVENT_RETENTION_DAYS: '2' });
      const base = { userId: null, sessionId: null, ip: null, data: {} };
      const old = await server.t.store.appendEvent({ ...base, type: 'old', createdAt: clock.now() - 3 * 24 * HOUR });
      const recent = await server.t.store.appendEvent({ ...base, type: 'recent', createdAt: clock.now() - 24 * HOUR });
      await housekeeper.runOnce();
      const ids = (await server.t.store.listEvents({ limit: 1000 })).map((e) => e.id);
      expect(ids).toContain(recent);
      expect(ids).not.toContain(old);
    });
  });
}
