import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, dbUnavailable, http, startServer, type TestServer } from '../support/server.js';
import { BIN, NODE_SOURCE } from '../support/process.js';
import { signUp } from '../support/users.js';

const run = promisify(execFile);
const PASSWORD = 'correct horse battery staple';

for (const db of DB_KINDS) {
  describe.skipIf(dbUnavailable(db))(`JWKS and key rotation over HTTP (${db})`, () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startServer({ db, env: { TESSERA_KEY_RELOAD_INTERVAL: '1' } });
      await signUp(s, 'dave@example.com', PASSWORD);
    });
    afterAll(async () => s?.close());

    const login = async () => (await http(s.url, 'POST', '/v1/login', { json: { email: 'dave@example.com', password: PASSWORD } })).body.access_token as string;

    it('a token verifies with jose.createRemoteJWKSet before and after `tessera keys rotate`', async () => {
      const jwks = createRemoteJWKSet(new URL(`${s.url}/.well-known/jwks.json`));
      const opts = { issuer: s.t.config.issuer, audience: s.t.config.audience, algorithms: ['EdDSA'], typ: 'at+jwt' };
      const before = await login();
      const v1 = await jwtVerify(before, jwks, opts);
      expect(v1.payload).toMatchObject({ sub: expect.any(String), sid: expect.any(String), amr: ['pwd'], roles: [] });

      const res = await fetch(`${s.url}/.well-known/jwks.json`);
      expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
      const set = (await res.json()) as { keys: Array<Record<string, unknown>> };
      // current and next of the access-token keys, and of the RS256 ID-token keys beside them
      expect(set.keys.filter((k) => k.alg === 'EdDSA').length).toBe(2);
      expect(set.keys.filter((k) => k.alg === 'RS256').length).toBe(2);
      for (const k of set.keys) expect(k.d).toBeUndefined();

      const env = { ...process.env, TESSERA_DATABASE_URL: s.t.config.databaseUrl, TESSERA_DATA_DIR: s.dataDir, TESSERA_LOG_LEVEL: 'silent' };
      const out = await run(process.execPath, [...NODE_SOURCE, BIN, 'keys', 'rotate'], { env });
      expect(out.stdout).toMatch(/current/);

      // The running server picks the rotation up within its reload interval.
      const oldKid = decodeProtectedHeader(before).kid;
      let after = await login();
      for (let i = 0; i < 40 && decodeProtectedHeader(after).kid === oldKid; i++) {
        await new Promise((r) => setTimeout(r, 100));
        after = await login();
      }
      expect(decodeProtectedHeader(after).kid).not.toBe(oldKid);
      await expect(jwtVerify(after, jwks, opts)).resolves.toBeTruthy();
      // Tokens signed before the rotation stay valid until they expire.
      await expect(jwtVerify(before, createRemoteJWKSet(new URL(`${s.url}/.well-known/jwks.json`)), opts)).resolves.toBeTruthy();
      expect((await http(s.url, 'GET', '/v1/me', { headers: { authorization: `Bearer ${before}` } })).status).toBe(200);
      // the ID-token keys rotated with them: previous, current and next are published
      await expect
        .poll(async () => ((await http(s.url, 'GET', '/.well-known/jwks.json')).body as typeof set).keys.filter((k) => k.alg === 'RS256').length, { timeout: 10_000 })
        .toBe(3);
    });

    it('publishes discovery metadata', async () => {
      for (const p of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
        const r = await http(s.url, 'GET', p);
        expect(r.status).toBe(200);
        expect(r.body).toMatchObject({
          issuer: s.t.config.issuer,
          jwks_uri: `${s.t.config.issuer}/.well-known/jwks.json`,
          token_endpoint: expect.any(String),
          revocation_endpoint: expect.any(String),
          introspection_endpoint: expect.any(String),
          dpop_signing_alg_values_supported: expect.arrayContaining(['ES256']),
        });
      }
    });
  });
}
