import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attackCases, controlToken, liveAttackContext, type AttackContext } from '../support/attack-cases.js';
import { dbUnavailable, http, startServer, type TestServer } from '../support/server.js';
import { signUp } from '../support/users.js';

/**
 * The attack table from the token service, run end to end against a protected route: every forged or
 * malformed token is refused with the same bland 401, and nothing about why leaks to the client.
 */
for (const [alg, db] of [['EdDSA', 'sqlite'], ['ES256', 'sqlite'], ['HS256', 'sqlite'], ['EdDSA', 'postgres'], ['EdDSA', 'mysql']] as const) {
  describe.skipIf(dbUnavailable(db))(`forged access tokens at the HTTP edge (${alg}, ${db})`, () => {
    let s: TestServer;
    let ctx: AttackContext;
    let refreshToken: string;
    let mfaLike: string;
    beforeAll(async () => {
      s = await startServer({ db: db, env: { TESSERA_SIGNING_ALG: alg, ...(alg === 'HS256' ? { TESSERA_HS256_SECRET: 'an-hs256-secret-that-is-at-least-32-bytes-long' } : {}) } });
      await signUp(s, 'mallory@example.com', 'correct horse battery staple');
      const login = await http(s.url, 'POST', '/v1/login', { json: { email: 'mallory@example.com', password: 'correct horse battery staple' } });
      refreshToken = login.body.refresh_token;
      mfaLike = `${refreshToken.split('.')[0]}x.${refreshToken.split('.')[1]}`;
      ctx = liveAttackContext(s.t, alg, login.body.access_token);
    });
    afterAll(async () => s?.close());

    it('the control token, built like the attacks, is accepted', async () => {
      const r = await http(s.url, 'GET', '/v1/me', { headers: { authorization: `Bearer ${controlToken(ctx)}` } });
      expect(r.status).toBe(200);
    });

    it('every attack is refused with 401 invalid_token and no detail', async () => {
      const cases = [...attackCases(ctx), { name: 'a refresh token as an access token', token: refreshToken }, { name: 'an opaque mfa_token-like string', token: mfaLike }];
      const seen = new Set<string>();
      for (const c of cases) {
        const r = await http(s.url, 'GET', '/v1/me', { headers: { authorization: `Bearer ${c.token}` } });
        expect(r.status, c.name).toBe(401);
        expect(r.body.code, c.name).toBe('invalid_token');
        expect(r.body.detail, c.name).toBeUndefined();
        seen.add(JSON.stringify(r.body));
      }
      expect(seen.size).toBe(1); // one bland body for every reason
    });
  });
}
