import { randomBytes } from 'node:crypto';
import * as jose from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { SecretBox } from '../../src/core/crypto.js';
import { isTesseraError } from '../../src/core/errors.js';
import { KeyManager, type SigningAlg } from '../../src/core/keys.js';
import { TokenService } from '../../src/core/tokens.js';
import { openStore } from '../../src/store/connect.js';
import type { Store } from '../../src/store/ports/index.js';
import { attackCases, controlToken, type AttackContext } from '../support/attack-cases.js';

const ISSUER = 'https://auth.example';
const AUDIENCE = 'https://api.example';
const HS_SECRET = 'an-hs256-secret-of-at-least-32-bytes!';

describe.each<SigningAlg>(['EdDSA', 'ES256', 'HS256'])('TokenService with %s', (alg) => {
  let store: Store;
  let keys: KeyManager;
  let tokens: TokenService;
  let ctx: AttackContext;
  const clock = new FakeClock();

  beforeAll(async () => {
    store = await openStore('sqlite::memory:');
    await store.migrate();
    keys = new KeyManager(store, new SecretBox(randomBytes(32)), { alg, clock, ...(alg === 'HS256' ? { hs256Secret: HS_SECRET } : {}) });
    await keys.init();
    tokens = new TokenService(keys, { issuer: ISSUER, audience: AUDIENCE, accessTtlSec: 300, clock });
    const { kid, key } = keys.signingKey();
    const publicJwk = keys.jwks().keys.find((k) => k.kid === kid);
    ctx = { alg, kid, key, issuer: ISSUER, audience: AUDIENCE, nowSec: Math.floor(clock.now() / 1000), ...(publicJwk ? { publicJwk } : {}) };
  });
  afterAll(async () => store?.close());

  it('issues an RFC 9068 access token that verifies', async () => {
    const authTime = clock.now() - 30_000;
    const issued = await tokens.issueAccessToken({ sub: 'u1', sid: 's1', authTime, amr: ['pwd', 'otp'], roles: ['admin'], scope: 'notes:read', jkt: 'thumb' });
    expect(issued).toMatchObject({ expiresIn: 300, exp: Math.floor(clock.now() / 1000) + 300, jti: expect.any(String) });
    expect(jose.decodeProtectedHeader(issued.token)).toEqual({ alg, typ: 'at+jwt', kid: keys.signingKey().kid });
    const claims = await tokens.verifyAccessToken(issued.token);
    expect(claims).toMatchObject({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: 'u1',
      sid: 's1',
      jti: issued.jti,
      iat: Math.floor(clock.now() / 1000),
      exp: issued.exp,
      auth_time: Math.floor(authTime / 1000),
      amr: ['pwd', 'otp'],
      roles: ['admin'],
      scope: 'notes:read',
      cnf: { jkt: 'thumb' },
    });
    const plain = await tokens.issueAccessToken({ sub: 'u2', sid: 's2', authTime, amr: ['pwd'], roles: [] });
    const decoded = jose.decodeJwt(plain.token);
    expect(decoded).not.toHaveProperty('scope');
    expect(decoded).not.toHaveProperty('cnf');
    expect(plain.jti).not.toBe(issued.jti);
  });

  it('the attack table control token verifies (so every refusal below is the attack, not the builder)', async () => {
    await expect(tokens.verifyAccessToken(controlToken(ctx))).resolves.toMatchObject({ sub: 'user-1' });
  });

  it('refuses every forged, altered or foreign token with invalid_token', async () => {
    const cases = attackCases(ctx);
    expect(cases.length).toBeGreaterThan(30);
    const accepted: string[] = [];
    const wrongError: string[] = [];
    for (const { name, token } of cases) {
      try {
        await tokens.verifyAccessToken(token);
        accepted.push(name);
      } catch (err) {
        if (!isTesseraError(err) || err.code !== 'invalid_token' || err.status !== 401) wrongError.push(`${name}: ${String(err)}`);
      }
    }
    expect(accepted).toEqual([]);
    expect(wrongError).toEqual([]);
  });
});
