/** The node:crypto signer (core/jws.ts) writes what jose verifies, for every configured algorithm. */
import * as jose from 'jose';
import { describe, expect, it } from 'vitest';
import { signJws } from '../../src/core/jws.js';

describe('access-token signing on node:crypto', () => {
  for (const alg of ['EdDSA', 'ES256'] as const) {
    it(`${alg}: jose verifies the token, header {alg, typ: at+jwt, kid}; a changed byte fails`, async () => {
      const { privateKey, publicKey } = await jose.generateKeyPair(alg === 'EdDSA' ? 'Ed25519' : 'ES256');
      const claims = { iss: 'https://issuer.test', sub: 'usr_1', aud: 'https://issuer.test', exp: Math.floor(Date.now() / 1000) + 60, roles: [] };
      for (let i = 0; i < 2; i++) {
        const token = signJws(alg, 'at+jwt', 'kid1', claims, privateKey);
        const r = await jose.jwtVerify(token, publicKey, { algorithms: [alg], typ: 'at+jwt', issuer: 'https://issuer.test', audience: 'https://issuer.test' });
        expect(r.protectedHeader).toEqual({ alg, typ: 'at+jwt', kid: 'kid1' });
        expect(r.payload).toEqual(claims);
        const tampered = token.slice(0, -3) + (token.endsWith('A') ? 'BBB' : 'AAA');
        await expect(jose.jwtVerify(tampered, publicKey, { algorithms: [alg] })).rejects.toThrow();
      }
    });
  }

  it('HS256: jose verifies with the shared secret; a private key type mix-up is refused', async () => {
    const secret = new TextEncoder().encode('a shared secret of at least thirty-two bytes');
    const token = signJws('HS256', 'at+jwt', 'hs', { sub: 'x' }, secret);
    expect((await jose.jwtVerify(token, secret, { algorithms: ['HS256'] })).payload).toEqual({ sub: 'x' });
    const { privateKey } = await jose.generateKeyPair('Ed25519');
    expect(() => signJws('HS256', 'at+jwt', 'hs', {}, privateKey)).toThrow(TypeError);
    expect(() => signJws('EdDSA', 'at+jwt', 'k', {}, secret)).toThrow(TypeError);
  });
});
