import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, dbUnavailable, http, startServer, type TestServer } from '../support/server.js';
import { signUp } from '../support/users.js';

const PASSWORD = 'correct horse battery staple';

for (const db of DB_KINDS) {
  describe.skipIf(dbUnavailable(db))(`token lifecycle over HTTP (${db})`, () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startServer({ db, env: { TESSERA_REFRESH_GRACE: '10' } });
    });
    afterAll(async () => s?.close());

    it('register → login → me → refresh → replay from another client revokes → login → logout', async () => {
      await signUp(s, '  Alice@Example.COM ', PASSWORD);
      const reg = { body: { id: (await s.t.accounts.findUser('alice@example.com'))!.id } };

      // a taken address answers exactly like a free one (no enumeration); its owner is mailed instead
      const dup = await http(s.url, 'POST', '/v1/accounts', { json: { email: 'alice@example.com', password: PASSWORD } });
      expect(dup.status).toBe(202);
      expect(dup.body).toEqual({ status: 'verification_sent' });

      const login = await http(s.url, 'POST', '/v1/login', { json: { email: 'ALICE@example.com', password: PASSWORD }, headers: { 'user-agent': 'client-A' } });
      expect(login.status).toBe(200);
      expect(login.body).toMatchObject({ token_type: 'Bearer', expires_in: 300, session_id: expect.any(String) });
      expect(login.headers.get('cache-control')).toBe('no-store');
      const { access_token: at1, refresh_token: rt1 } = login.body;

      const me = await http(s.url, 'GET', '/v1/me', { headers: { authorization: `Bearer ${at1}` } });
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ id: reg.body.id, email: 'alice@example.com', mfa: { totp: false, webauthn: false, recovery_codes_left: 0 } });

      const r1 = await http(s.url, 'POST', '/v1/token', { form: { grant_type: 'refresh_token', refresh_token: rt1 }, headers: { 'user-agent': 'client-A' } });
      expect(r1.status).toBe(200);
      const { access_token: at2, refresh_token: rt2 } = r1.body;
      expect(rt2).not.toBe(rt1);
      expect((await http(s.url, 'GET', '/v1/me', { headers: { authorization: `Bearer ${at2}` } })).status).toBe(200);

      // The old refresh token replayed by a different client (another user agent): theft. Family revoked.
      const replay = await http(s.url, 'POST', '/v1/token', { json: { grant_type: 'refresh_token', refresh_token: rt1 }, headers: { 'user-agent': 'attacker' } });
      expect(replay.status).toBe(401);
      expect(replay.body.code).toBe('refresh_token_reused');
      expect(replay.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect((await http(s.url, 'GET', '/v1/me', { headers: { authorization: `Bearer ${at2}` } })).status).toBe(401);
      expect((await http(s.url, 'POST', '/v1/token', { json: { grant_type: 'refresh_token', refresh_token: rt2 } })).status).toBe(400);

      const events = await (async () => {
        const l = await http(s.url, 'POST', '/v1/login', { json: { email: 'alice@example.com', password: PASSWORD } });
        expect(l.status).toBe(200);
        const ev = await http(s.url, 'GET', '/v1/events', { headers: { authorization: `Bearer ${l.body.access_token}` } });
        const out = await http(s.url, 'POST', '/v1/logout', { headers: { authorization: `Bearer ${l.body.access_token}` } });
        expect(out.status).toBe(204);
        const after = await http(s.url, 'GET', '/v1/me', { headers: { authorization: `Bearer ${l.body.access_token}` } });
        expect(after.status).toBe(401);
        expect(after.body.code).toBe('invalid_token');
        return ev.body as Array<{ type: string }>;
      })();
      expect(events.map((e) => e.type)).toContain('refresh_token_reused');
    });

    it('a same-client replay within the grace window gets the very same successor', async () => {
      await signUp(s, 'tabs@example.com', PASSWORD);
      const login = await http(s.url, 'POST', '/v1/login', { json: { email: 'tabs@example.com', password: PASSWORD }, headers: { 'user-agent': 'tab' } });
      const rt = login.body.refresh_token;
      const a = await http(s.url, 'POST', '/v1/token', { json: { grant_type: 'refresh_token', refresh_token: rt }, headers: { 'user-agent': 'tab' } });
      const b = await http(s.url, 'POST', '/v1/token', { json: { grant_type: 'refresh_token', refresh_token: rt }, headers: { 'user-agent': 'tab' } });
      expect(a.status).toBe(200);
      expect(b.status).toBe(200);
      expect(b.body.refresh_token).toBe(a.body.refresh_token);
      expect(b.body.access_token).toBe(a.body.access_token);
      expect((await http(s.url, 'GET', '/v1/me', { headers: { authorization: `Bearer ${a.body.access_token}` } })).status).toBe(200);
    });

    it('sessions list, delete one, sign out everywhere keeping the current one', async () => {
      await signUp(s, 'multi@example.com', PASSWORD);
      const logins = await Promise.all([1, 2, 3].map((i) => http(s.url, 'POST', '/v1/login', { json: { email: 'multi@example.com', password: PASSWORD }, headers: { 'user-agent': `device-${i}` } })));
      const [a, b, c] = logins.map((l) => `Bearer ${l.body.access_token}`);
      const list = await http(s.url, 'GET', '/v1/sessions', { headers: { authorization: a } });
      expect(list.body).toHaveLength(3);
      expect(list.body.filter((x: { current: boolean }) => x.current)).toHaveLength(1);
      expect(list.body[0]).toMatchObject({ ip: '127.0.0.1', location: { city: null, country: null }, amr: ['pwd'] });
      const del = await http(s.url, 'DELETE', `/v1/sessions/${logins[1].body.session_id}`, { headers: { authorization: a } });
      expect(del.status).toBe(204);
      expect((await http(s.url, 'GET', '/v1/me', { headers: { authorization: b } })).status).toBe(401);
      expect((await http(s.url, 'DELETE', '/v1/sessions?keep=current', { headers: { authorization: a } })).status).toBe(204);
      expect((await http(s.url, 'GET', '/v1/me', { headers: { authorization: c } })).status).toBe(401);
      expect((await http(s.url, 'GET', '/v1/me', { headers: { authorization: a } })).status).toBe(200);
      expect((await http(s.url, 'DELETE', '/v1/sessions', { headers: { authorization: a } })).status).toBe(204);
      expect((await http(s.url, 'GET', '/v1/me', { headers: { authorization: a } })).status).toBe(401);
    });
  });
}
