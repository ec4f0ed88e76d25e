import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DpopNonces, accessTokenHash, createVerifier, normalizeHtu, verifyDpopProof } from '../src/index.js';
import type { TesseraVerifier } from '../src/index.js';
import { FakeIssuer, refusal } from './support/issuer.js';

interface ClientKey {
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
  jkt: string;
}

async function clientKey(kind: 'ec' | 'ed' = 'ec'): Promise<ClientKey> {
  const { privateKey, publicKey } = kind === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  return { privateKey, jwk, jkt: await calculateJwkThumbprint(jwk) };
}

const URL_ = 'https://api.example.com/notes';

async function proof(
  key: ClientKey,
  o: { htm?: string; htu?: string; token?: string; iat?: number; jti?: string; alg?: string; typ?: string; jwk?: Record<string, unknown>; extra?: Record<string, unknown> } = {},
): Promise<string> {
  const payload: Record<string, unknown> = {
    htm: o.htm ?? 'GET',
    htu: o.htu ?? URL_,
    iat: o.iat ?? Math.floor(Date.now() / 1000),
    jti: o.jti ?? randomUUID(),
    ...(o.token ? { ath: accessTokenHash(o.token) } : {}),
    ...o.extra,
  };
  const alg = o.alg ?? ('crv' in key.jwk && key.jwk.crv === 'P-256' ? 'ES256' : 'EdDSA');
  return new SignJWT(payload).setProtectedHeader({ alg, typ: o.typ ?? 'dpop+jwt', jwk: (o.jwk ?? key.jwk) }).sign(key.privateKey);
}

let issuer: FakeIssuer;
let verifier: TesseraVerifier;
let alice: ClientKey;
let mallory: ClientKey;
let bound: string;

beforeAll(async () => {
  issuer = await new FakeIssuer().start();
  verifier = createVerifier({ issuer: issuer.url });
  await verifier.ready();
  alice = await clientKey('ec');
  mallory = await clientKey('ed');
  bound = await issuer.sign(issuer.claims({ cnf: { jkt: alice.jkt } }));
});
afterAll(async () => {
  await verifier.close();
  await issuer.close();
});

const ctx = (dpopProof: string | undefined, extra: Record<string, unknown> = {}) => ({
  scheme: 'dpop' as const,
  method: 'GET',
  url: URL_,
  ...(dpopProof !== undefined ? { dpopProof } : {}),
  ...extra,
});

describe('DPoP through the verifier', () => {
  it('accepts a bound token with a fresh proof, on every request including cache hits', async () => {
    expect((await verifier.verify(bound, ctx(await proof(alice, { token: bound })))).cnf?.jkt).toBe(alice.jkt);
    expect((await verifier.verify(bound, ctx(await proof(alice, { token: bound })))).sub).toBe('user-1');
  });

  it('ignores the query and fragment of the request URL for htu', async () => {
    const p = await proof(alice, { token: bound });
    await expect(verifier.verify(bound, ctx(p, { url: `${URL_}?page=2#x` }))).resolves.toBeTruthy();
  });

  const attacks: [string, () => Promise<Record<string, unknown>>, string, string][] = [
    ['missing proof', async () => ctx(undefined), 'invalid_dpop_proof', 'dpop_proof_missing'],
    ['bound token presented as Bearer (with a valid proof)', async () => ({ ...ctx(await proof(alice, { token: bound })), scheme: 'bearer' }), 'invalid_token', 'dpop_bound_token_as_bearer'],
    ['bound token in the cookie without a proof (a copied browser cookie)', async () => ({ ...ctx(undefined), scheme: 'cookie' }), 'invalid_dpop_proof', 'dpop_proof_missing'],
    ['bound token in the cookie, proof from another key', async () => ({ ...ctx(await proof(mallory, { token: bound })), scheme: 'cookie' }), 'invalid_dpop_proof', 'jkt_mismatch'],
    ['wrong htm', async () => ctx(await proof(alice, { token: bound, htm: 'POST' })), 'invalid_dpop_proof', 'htm_mismatch'],
    ['wrong htu (another endpoint)', async () => ctx(await proof(alice, { token: bound, htu: 'https://api.example.com/admin' })), 'invalid_dpop_proof', 'htu_mismatch'],
    ['wrong htu (another host)', async () => ctx(await proof(alice, { token: bound, htu: 'https://evil.example.com/notes' })), 'invalid_dpop_proof', 'htu_mismatch'],
    ['wrong ath (proof made for another token)', async () => ctx(await proof(alice, { token: 'another.access.token' })), 'invalid_dpop_proof', 'ath_mismatch'],
    ['no ath', async () => ctx(await proof(alice)), 'invalid_dpop_proof', 'ath_mismatch'],
    ['proof signed by another key (stolen token)', async () => ctx(await proof(mallory, { token: bound })), 'invalid_dpop_proof', 'jkt_mismatch'],
    ['proof too old', async () => ctx(await proof(alice, { token: bound, iat: Math.floor(Date.now() / 1000) - 300 })), 'invalid_dpop_proof', 'iat_too_old'],
    ['proof from the future', async () => ctx(await proof(alice, { token: bound, iat: Math.floor(Date.now() / 1000) + 300 })), 'invalid_dpop_proof', 'iat_in_future'],
    ['typ JWT', async () => ctx(await proof(alice, { token: bound, typ: 'JWT' })), 'invalid_dpop_proof', 'typ_not_dpop_jwt'],
    ['private key in the header jwk', async () => ctx(await proof(alice, { token: bound, jwk: { ...alice.jwk, d: 'AAAA' } })), 'invalid_dpop_proof', 'jwk_has_private_members'],
    ['header jwk of another key than the signer', async () => ctx(await proof(mallory, { token: bound, alg: 'EdDSA', jwk: alice.jwk })), 'invalid_dpop_proof', 'ERR_JWS_INVALID'],
    ['an access token as the proof', async () => ctx(bound), 'invalid_dpop_proof', 'typ_not_dpop_jwt'],
    ['garbage proof', async () => ctx('abc.def'), 'invalid_dpop_proof', 'malformed_segments'],
  ];

  it.each(attacks)('refuses: %s', async (_name, makeCtx, code, reason) => {
    const r = await refusal(verifier.verify(bound, (await makeCtx())));
    expect(r.code).toBe(code);
    if (reason === 'ERR_JWS_INVALID') expect(r.reason).toMatch(/^ERR_/);
    else expect(r.reason).toBe(reason);
  });

  it('accepts a bound token in the cookie with a fresh proof from its key (a first-party page)', async () => {
    expect((await verifier.verify(bound, { ...ctx(await proof(alice, { token: bound })), scheme: 'cookie' })).cnf?.jkt).toBe(alice.jkt);
  });

  it('refuses a bound cookie-mode token when no URL can be checked (DPoP not enabled at the guard)', async () => {
    expect(await refusal(verifier.verify(bound, { scheme: 'cookie', method: 'GET', dpopProof: await proof(alice, { token: bound }) }))).toEqual({ code: 'invalid_token', reason: 'dpop_not_accepted' });
  });

  it('refuses a replayed proof (same jti)', async () => {
    const p = await proof(alice, { token: bound });
    await verifier.verify(bound, ctx(p));
    expect(await refusal(verifier.verify(bound, ctx(p)))).toEqual({ code: 'invalid_dpop_proof', reason: 'jti_replayed' });
  });

  it('refuses an unbound token presented with the DPoP scheme', async () => {
    const plain = await issuer.sign(issuer.claims());
    expect(await refusal(verifier.verify(plain, ctx(await proof(alice, { token: plain }))))).toEqual({ code: 'invalid_token', reason: 'dpop_scheme_unbound_token' });
  });
});

describe('verifyDpopProof', () => {
  it('returns the RFC 7638 thumbprint and jti', async () => {
    const p = await proof(alice, { jti: 'j-1' });
    expect(await verifyDpopProof(p, { method: 'GET', url: URL_ })).toEqual({ jkt: alice.jkt, jti: 'j-1' });
  });

  it('refuses alg none and HS256 proofs', async () => {
    const h = Buffer.from(JSON.stringify({ alg: 'none', typ: 'dpop+jwt', jwk: alice.jwk })).toString('base64url');
    const b = Buffer.from(JSON.stringify({ htm: 'GET', htu: URL_, iat: Math.floor(Date.now() / 1000), jti: 'x' })).toString('base64url');
    expect((await refusal(verifyDpopProof(`${h}.${b}.AAAA`, { method: 'GET', url: URL_ }))).reason).toBe('alg_not_allowed');
    await expect(verifyDpopProof(`${h}.${b}.AAAA`, { method: 'GET', url: URL_, algorithms: ['HS256'] })).rejects.toThrow(TypeError);
  });

  it('checks the server nonce when one is required', async () => {
    const p = await proof(alice, { extra: { nonce: 'n-1' } });
    await expect(verifyDpopProof(p, { method: 'GET', url: URL_, nonce: 'n-1' })).resolves.toBeTruthy();
    expect((await refusal(verifyDpopProof(p, { method: 'GET', url: URL_, nonce: 'n-2' }))).reason).toBe('nonce_mismatch');
  });

  it('consults isReplay only after the signature is verified', async () => {
    const seen: string[] = [];
    const isReplay = async (jti: string) => {
      seen.push(jti);
      return false;
    };
    await refusal(verifyDpopProof(await proof(mallory, { jti: 'forged', jwk: alice.jwk, alg: 'EdDSA' }), { method: 'GET', url: URL_, isReplay }));
    expect(seen).toEqual([]);
    await verifyDpopProof(await proof(alice, { jti: 'good' }), { method: 'GET', url: URL_, isReplay });
    expect(seen).toEqual(['good']);
  });

  it('normalises htu', () => {
    expect(normalizeHtu('HTTPS://API.example.com:443/a/../notes?x=1#f')).toBe('https://api.example.com/notes');
    expect(normalizeHtu('http://localhost:80/x')).toBe('http://localhost/x');
    expect(normalizeHtu('javascript:alert(1)')).toBeNull();
  });
});

describe('DpopNonces (RFC 9449 §8, stateless)', () => {
  const secret = 'k'.repeat(32);
  it('accepts a nonce in its own window and the next, refuses it after, and refuses one made with another secret', () => {
    let now = 1_000_000_000_000;
    const nonces = new DpopNonces({ secret, windowSec: 60, now: () => now });
    const n = nonces.current();
    expect(nonces.isValid(n)).toBe(true);
    now += 60_000;
    expect(nonces.isValid(n)).toBe(true);
    expect(nonces.current()).not.toBe(n);
    now += 60_000;
    expect(nonces.isValid(n)).toBe(false);
    // another node with the same secret accepts what this one issued; one with another secret does not
    expect(new DpopNonces({ secret, now: () => now }).isValid(nonces.current())).toBe(true);
    expect(new DpopNonces({ secret: 'x'.repeat(32), now: () => now }).isValid(nonces.current())).toBe(false);
  });

  it('refuses a nonce for a window still to come (a guessed future value), garbage and non-strings', () => {
    const now = 1_000_000_000_000;
    const nonces = new DpopNonces({ secret, now: () => now });
    const future = new DpopNonces({ secret, now: () => now + 120_000 }).current();
    for (const bad of [future, '', '.', 'abc', `${nonces.current()}x`, 42, undefined, null]) expect(nonces.isValid(bad)).toBe(false);
  });

  it('needs a secret of at least 32 bytes', () => {
    expect(() => new DpopNonces({ secret: 'short' })).toThrow(TypeError);
  });

  it('a proof refused by the nonce rule is use_dpop_nonce, checked before its time (a proof signed ahead)', async () => {
    const nonces = new DpopNonces({ secret });
    const ahead = await proof(alice, { iat: Math.floor(Date.now() / 1000) + 3600, extra: { nonce: 'made-up' } });
    expect(await refusal(verifyDpopProof(ahead, { method: 'GET', url: URL_, checkNonce: (v) => nonces.isValid(v) }))).toEqual({ code: 'use_dpop_nonce', reason: 'nonce_stale' });
    const none = await proof(alice);
    expect(await refusal(verifyDpopProof(none, { method: 'GET', url: URL_, checkNonce: (v) => nonces.isValid(v) }))).toEqual({ code: 'use_dpop_nonce', reason: 'nonce_missing' });
    const good = await proof(alice, { extra: { nonce: nonces.current() } });
    await expect(verifyDpopProof(good, { method: 'GET', url: URL_, checkNonce: (v) => nonces.isValid(v) })).resolves.toBeTruthy();
  });
});
