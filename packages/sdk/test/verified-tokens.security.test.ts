import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { verifiedTokens } from '../src/edge/index.js';
import type { KeyResolver } from '../src/index.js';
import { newKey, refusal } from './support/issuer.js';

const ISS = 'https://issuer.example';
const key = newKey('EdDSA', 'k1');

function claims(nowSec: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: ISS, aud: ISS, sub: 'u1', sid: 's1', jti: randomUUID(), iat: nowSec, exp: nowSec + 60, auth_time: nowSec, amr: ['pwd'], roles: [], ...overrides };
}
const sign = (c: Record<string, unknown>) => new SignJWT(c).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'k1' }).sign(key.privateKey);

/** A key resolver that counts its calls: a verification that reaches it was not served by the cache. */
function counting(): { getKey: KeyResolver; calls: () => number; hold: () => () => void } {
  let calls = 0;
  let gate: Promise<void> | undefined;
  return {
    getKey: async () => {
      calls++;
      await gate;
      return key.publicKey;
    },
    calls: () => calls,
    hold: () => {
      let open!: () => void;
      gate = new Promise<void>((r) => (open = r));
      return () => {
        gate = undefined;
        open();
      };
    },
  };
}

describe('verifiedTokens: the verifier\'s token cache for an issuer\'s own keys', () => {
  it('verifies a token once, then serves it from the cache', async () => {
    const k = counting();
    const v = verifiedTokens(k.getKey, { issuer: ISS, audience: ISS, algorithms: ['EdDSA'] });
    const token = await sign(claims(Math.floor(Date.now() / 1000)));
    for (let i = 0; i < 3; i++) expect((await v.verify(token)).sub).toBe('u1');
    expect([k.calls(), v.stats().hits, v.stats().misses]).toEqual([1, 2, 1]);
  });

  it('refuses a cached token once it expires (exp plus the clock tolerance)', async () => {
    let now = Date.now();
    const v = verifiedTokens(counting().getKey, { issuer: ISS, audience: ISS, algorithms: ['EdDSA'], now: () => now });
    const token = await sign(claims(Math.floor(now / 1000)));
    await v.verify(token);
    now += 60_000 + 29_000;
    await expect(v.verify(token)).resolves.toMatchObject({ sub: 'u1' });
    now += 2_000;
    expect(await refusal(v.verify(token))).toMatchObject({ code: 'invalid_token', reason: 'ERR_JWT_EXPIRED' });
  });

  it('refuses a tampered token carrying a cached token\'s signature', async () => {
    const v = verifiedTokens(counting().getKey, { issuer: ISS, audience: ISS, algorithms: ['EdDSA'] });
    const token = await sign(claims(Math.floor(Date.now() / 1000)));
    await v.verify(token);
    const [h, , sig] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify(claims(Math.floor(Date.now() / 1000), { roles: ['admin'] }))).toString('base64url')}.${sig}`;
    expect(await refusal(v.verify(forged))).toMatchObject({ code: 'invalid_token' });
  });

  it('clear() forgets every token, also one whose verification was in flight across it', async () => {
    const k = counting();
    const v = verifiedTokens(k.getKey, { issuer: ISS, audience: ISS, algorithms: ['EdDSA'] });
    const token = await sign(claims(Math.floor(Date.now() / 1000)));
    await v.verify(token);
    v.clear();
    const open = k.hold();
    const inFlight = v.verify(token);
    v.clear();
    open();
    await inFlight;
    await v.verify(token);
    // 1 (first), 2 (after the clear), 3 (the in-flight one was not admitted)
    expect(k.calls()).toBe(3);
  });
});
