import { createVerifier, isTesseraTokenError, type TesseraVerifier } from '@tessera/sdk';
import { requireAuth, tesseraAuth } from '@tessera/sdk/fastify';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomToken, sha256 } from '../../packages/server/src/core/crypto.js';
import { attackCases, controlToken, liveAttackContext, type AttackContext } from '../../packages/server/test/support/attack-cases.js';
import { http, startServer, type TestServer } from '../../packages/server/test/support/server.js';
import { signUp } from '../../packages/server/test/support/users.js';

/**
 * The core attack table, run against the SDK verifier pointed at a real running Tessera (its discovery
 * document, JWKS and revocation feed): same cases, same verdict as the server's own edge.
 */
// EdDSA twice: checked by libsodium (the default where it loads) and by node:crypto.
const runs = [
  ['EdDSA', 'auto'],
  ['EdDSA', 'node:crypto'],
  ['ES256', 'auto'],
] as const;
for (const [alg, ed25519Backend] of runs) {
  describe(`the SDK refuses every forged token of the core table (${alg}, ${ed25519Backend})`, () => {
    let s: TestServer;
    let verifier: TesseraVerifier;
    let ctx: AttackContext;
    let refreshToken: string;
    beforeAll(async () => {
      s = await startServer({ env: { TESSERA_SIGNING_ALG: alg } });
      const secret = randomToken();
      await s.t.store.createClient({ id: 'rs_attacks', name: 'attacks', secretHash: sha256(secret), createdAt: Date.now() });
      verifier = createVerifier({ issuer: s.t.config.issuer, clientId: 'rs_attacks', clientSecret: secret, algorithms: [alg], ed25519Backend });
      await verifier.ready();
      await signUp(s, 'eve@example.com', 'correct horse battery staple');
      const login = await http(s.url, 'POST', '/v1/login', { json: { email: 'eve@example.com', password: 'correct horse battery staple' } });
      refreshToken = login.body.refresh_token;
      ctx = liveAttackContext(s.t, alg, login.body.access_token);
    });
    afterAll(async () => {
      await verifier?.close();
      await s?.close();
    });

    it('accepts the control token and refuses every attack with invalid_token', async () => {
      await expect(verifier.verify(controlToken(ctx), { scheme: 'bearer' })).resolves.toMatchObject({ sub: ctx.sub });
      const cases = [...attackCases(ctx), { name: 'a refresh token as an access token', token: refreshToken }];
      for (const c of cases) {
        const err = await verifier.verify(c.token, { scheme: 'bearer' }).then(() => null, (e: unknown) => e);
        expect(isTesseraTokenError(err) ? err.code : err, c.name).toBe('invalid_token');
      }
    });

    it('the Fastify plugin (its synchronous Bearer path) gives the same verdicts', async () => {
      const app = Fastify();
      await app.register(tesseraAuth, { verifier, origin: 'https://api.example.com' });
      app.get('/me', { preHandler: requireAuth }, async (request) => ({ sub: request.auth?.sub }));
      try {
        const get = (token: string) => app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } });
        // Twice: the second request of the control token is a cache hit, and no attack may ride on it.
        for (let round = 0; round < 2; round++) {
          expect((await get(controlToken(ctx))).json()).toEqual({ sub: ctx.sub });
          for (const c of [...attackCases(ctx), { name: 'a refresh token as an access token', token: refreshToken }]) {
            const res = await get(c.token);
            expect([res.statusCode, String(res.headers['content-type']).split(';')[0], res.json().code], c.name).toEqual([401, 'application/problem+json', 'invalid_token']);
          }
        }
      } finally {
        await app.close();
      }
    });
  });
}
