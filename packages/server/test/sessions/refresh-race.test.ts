import { afterEach, describe, expect, it } from 'vitest';
import { DB_KINDS, dbUnavailable, http, startServer, type TestServer } from '../support/server.js';
import { signUp } from '../support/users.js';

const PASSWORD = 'correct horse battery staple';

/** Every refresh token row of a session, read straight from the database (the contract has no "list"). */
async function countSuccessors(s: TestServer, sessionId: string): Promise<{ total: number; unused: number }> {
  const rows = await s.t.store.listRefreshTokens(sessionId);
  return { total: rows.length, unused: rows.filter((r) => r.usedAt === null).length };
}

for (const db of DB_KINDS) {
  describe.skipIf(dbUnavailable(db))(`concurrent refreshes of one token (${db})`, () => {
    let s: TestServer | undefined;
    afterEach(async () => {
      await s?.close();
      s = undefined;
    });

    async function signIn(server: TestServer, email: string) {
      await signUp(server, email, PASSWORD);
      const l = await http(server.url, 'POST', '/v1/login', { json: { email, password: PASSWORD }, headers: { 'user-agent': 'racer' } });
      expect(l.status).toBe(200);
      return l.body as { refresh_token: string; session_id: string };
    }

    it('within the grace window, same client: every success carries the same successor, and only one exists', async () => {
      s = await startServer({ db, env: { TESSERA_REFRESH_GRACE: '10' } });
      const { refresh_token, session_id } = await signIn(s, 'race1@example.com');
      const results = await Promise.all(
        Array.from({ length: 10 }, () => http(s!.url, 'POST', '/v1/token', { json: { grant_type: 'refresh_token', refresh_token }, headers: { 'user-agent': 'racer' } })),
      );
      const ok = results.filter((r) => r.status === 200);
      expect(ok.length).toBe(10);
      expect(new Set(ok.map((r) => r.body.refresh_token)).size).toBe(1);
      expect(new Set(ok.map((r) => r.body.access_token)).size).toBe(1);
      const c = await countSuccessors(s, session_id);
      expect(c).toEqual({ total: 2, unused: 1 });
    });

    it('with the grace set to 0, exactly one succeeds', async () => {
      s = await startServer({ db, env: { TESSERA_REFRESH_GRACE: '0' } });
      const { refresh_token, session_id } = await signIn(s, 'race2@example.com');
      const results = await Promise.all(
        Array.from({ length: 10 }, () => http(s!.url, 'POST', '/v1/token', { json: { grant_type: 'refresh_token', refresh_token }, headers: { 'user-agent': 'racer' } })),
      );
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      for (const r of results.filter((x) => x.status !== 200)) expect(r.body.code).toBe('refresh_token_reused');
      const c = await countSuccessors(s, session_id);
      expect(c.total).toBe(2);
    });

    it('a replay from another client after the window revokes the family', async () => {
      s = await startServer({ db, env: { TESSERA_REFRESH_GRACE: '1' } });
      const { refresh_token } = await signIn(s, 'race3@example.com');
      const first = await http(s.url, 'POST', '/v1/token', { json: { grant_type: 'refresh_token', refresh_token }, headers: { 'user-agent': 'racer' } });
      expect(first.status).toBe(200);
      // Even the same client is refused once the window has passed.
      await new Promise((r) => setTimeout(r, 1100));
      const late = await http(s.url, 'POST', '/v1/token', { json: { grant_type: 'refresh_token', refresh_token }, headers: { 'user-agent': 'someone-else' } });
      expect(late.status).toBe(401);
      expect(late.body.code).toBe('refresh_token_reused');
      const next = await http(s.url, 'POST', '/v1/token', { json: { grant_type: 'refresh_token', refresh_token: first.body.refresh_token }, headers: { 'user-agent': 'racer' } });
      expect(next.status).toBe(400);
      expect((await http(s.url, 'GET', '/v1/me', { headers: { authorization: `Bearer ${first.body.access_token}` } })).status).toBe(401);
    });
  });
}
