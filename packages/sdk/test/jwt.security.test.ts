import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, verifyAccessTokenJwt } from '../src/index.js';
import type { TesseraVerifier } from '../src/index.js';
import { FakeIssuer, newKey, refusal } from './support/issuer.js';

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

let issuer: FakeIssuer;
let verifier: TesseraVerifier;
/** The same verifier with Ed25519 checked by node:crypto instead of libsodium: the table holds for both. */
let nodeCryptoVerifier: TesseraVerifier;

beforeAll(async () => {
  issuer = await new FakeIssuer().start();
  issuer.keys.push(newKey('EdDSA', 'ed-2'));
  verifier = createVerifier({ issuer: issuer.url });
  nodeCryptoVerifier = createVerifier({ issuer: issuer.url, ed25519Backend: 'node:crypto' });
  await Promise.all([verifier.ready(), nodeCryptoVerifier.ready()]);
});
afterAll(async () => {
  await Promise.all([verifier.close(), nodeCryptoVerifier.close()]);
  await issuer.close();
});

type Case = [name: string, make: () => Promise<string> | string, reason?: string | RegExp];

const now = () => Math.floor(Date.now() / 1000);
const ed = () => issuer.keys[0];
const ec = () => issuer.keys[1];
const header = (h: Record<string, unknown> = {}) => ({ alg: 'EdDSA', typ: 'at+jwt', kid: 'ed-1', ...h });

const cases: Case[] = [
  ...['none', 'None', 'NONE', 'nOnE'].map((alg): Case => [`alg ${alg}, empty signature`, () => `${b64(header({ alg }))}.${b64(issuer.claims())}.`, 'malformed_base64url']),
  ...['none', 'None', 'NONE', 'nOnE'].map((alg): Case => [`alg ${alg}, junk signature`, () => `${b64(header({ alg }))}.${b64(issuer.claims())}.AAAA`, 'alg_not_allowed']),
  [
    'HS256 signed with the public key bytes (algorithm confusion)',
    () => {
      const input = `${b64(header({ alg: 'HS256' }))}.${b64(issuer.claims())}`;
      const pem = ed().publicKey.export({ format: 'pem', type: 'spki' });
      return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
    },
    'alg_not_allowed',
  ],
  ['wrong kid (signed by ed-1, names ed-2)', () => issuer.sign(issuer.claims(), { header: { kid: 'ed-2' } }), 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
  ['kid of a key of another type (EdDSA token, P-256 kid)', () => issuer.sign(issuer.claims(), { header: { kid: 'ec-1' } }), 'alg_key_mismatch'],
  ['unknown kid', () => issuer.sign(issuer.claims(), { header: { kid: 'nobody' } }), 'kid_unknown'],
  ['no kid', () => issuer.signRaw(JSON.stringify({ alg: 'EdDSA', typ: 'at+jwt' }), JSON.stringify(issuer.claims())), 'kid_missing'],
  [
    'embedded jwk of the attacker, signed by the attacker',
    async () => {
      const evil = newKey('EdDSA', 'ed-1');
      return issuer.sign(issuer.claims({ roles: ['admin'] }), { key: evil, header: { jwk: evil.publicJwk } });
    },
    'header_jwk_forbidden',
  ],
  ['jku header', () => issuer.sign(issuer.claims(), { header: { jku: 'https://evil.example/jwks' } }), 'header_jku_forbidden'],
  ['x5u header', () => issuer.sign(issuer.claims(), { header: { x5u: 'https://evil.example/cert' } }), 'header_x5u_forbidden'],
  ['x5c header', () => issuer.sign(issuer.claims(), { header: { x5c: ['MIIB'] } }), 'header_x5c_forbidden'],
  ['crit header', () => issuer.signRaw(JSON.stringify(header({ crit: ['exp'] })), JSON.stringify(issuer.claims())), 'header_crit_forbidden'],
  ['b64:false header', () => issuer.signRaw(JSON.stringify(header({ b64: false })), JSON.stringify(issuer.claims())), 'header_b64_forbidden'],
  [
    'tampered payload (sub changed after signing)',
    async () => {
      const [h, , s] = (await issuer.sign(issuer.claims())).split('.');
      return `${h}.${b64(issuer.claims({ sub: 'admin' }))}.${s}`;
    },
    'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  ],
  ['stripped signature', async () => (await issuer.sign(issuer.claims())).replace(/\.[^.]+$/, '.'), 'malformed_base64url'],
  ['signature of another token', async () => `${(await issuer.sign(issuer.claims())).split('.').slice(0, 2).join('.')}.${(await issuer.sign(issuer.claims())).split('.')[2]}`, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
  ['expired', () => issuer.sign(issuer.claims({ iat: now() - 900, exp: now() - 120 })), 'ERR_JWT_EXPIRED'],
  ['nbf in the future', () => issuer.sign(issuer.claims({ nbf: now() + 300 })), 'ERR_JWT_CLAIM_VALIDATION_FAILED:nbf'],
  ['iat in the future', () => issuer.sign(issuer.claims({ iat: now() + 300, exp: now() + 600 })), 'iat_in_future'],
  ['wrong iss', () => issuer.sign(issuer.claims({ iss: 'https://evil.example' })), 'ERR_JWT_CLAIM_VALIDATION_FAILED:iss'],
  ['wrong aud', () => issuer.sign(issuer.claims({ aud: 'https://other-api.example' })), 'ERR_JWT_CLAIM_VALIDATION_FAILED:aud'],
  ['typ JWT (an ID token or other JWT from the same key)', () => issuer.sign(issuer.claims(), { header: { typ: 'JWT' } }), 'typ_not_at_jwt'],
  ['typ dpop+jwt', () => issuer.sign(issuer.claims(), { header: { typ: 'dpop+jwt' } }), 'typ_not_at_jwt'],
  ['typ missing', () => issuer.signRaw(JSON.stringify({ alg: 'EdDSA', kid: 'ed-1' }), JSON.stringify(issuer.claims())), 'typ_not_at_jwt'],
  ['missing sid', () => issuer.sign(issuer.claims({ sid: undefined })), 'ERR_JWT_CLAIM_VALIDATION_FAILED:sid'],
  ['roles not an array', () => issuer.sign(issuer.claims({ roles: 'admin' })), 'claim_roles_malformed'],
  ['cnf without jkt', () => issuer.sign(issuer.claims({ cnf: {} })), 'claim_cnf_malformed'],
  ['over-long token', () => issuer.sign(issuer.claims({ pad: 'x'.repeat(9000) })), 'token_too_long'],
  ['malformed base64url (standard alphabet)', async () => (await issuer.sign(issuer.claims())).replace(/^[^.]{4}/, 'ab+/'), 'malformed_base64url'],
  ['non-canonical base64url (trailing bits)', async () => {
    const [h, p, s] = (await issuer.sign(issuer.claims())).split('.');
    const last = s.at(-1)!;
    const twin = String.fromCharCode(last.charCodeAt(0) + 1);
    return `${h}.${p}.${s.slice(0, -1)}${twin}`;
  }, /malformed_base64url|ERR_JWS_SIGNATURE_VERIFICATION_FAILED/],
  ['invalid JSON header', () => `${b64('{"alg":"EdDSA",')}.${b64(issuer.claims())}.AAAA`, 'malformed_json'],
  ['header is a JSON array', () => `${b64('["EdDSA"]')}.${b64(issuer.claims())}.AAAA`, 'malformed_json'],
  [
    'duplicate header keys, validly signed ({"alg":"EdDSA",…,"alg":"none"} read differently by other parsers)',
    () => issuer.signRaw('{"alg":"none","typ":"at+jwt","kid":"ed-1","alg":"EdDSA"}', JSON.stringify(issuer.claims())),
    'duplicate_key',
  ],
  [
    'duplicate payload keys, validly signed (sub twice)',
    () => {
      const c = JSON.stringify(issuer.claims());
      return issuer.signRaw(JSON.stringify(header()), `${c.slice(0, -1)},"sub":"admin"}`);
    },
    'duplicate_key',
  ],
  [
    'duplicate keys spelt with an escape ("roles" and "\\u0072oles")',
    () => {
      const c = JSON.stringify(issuer.claims());
      return issuer.signRaw(JSON.stringify(header()), `${c.slice(0, -1)},"\\u0072oles":["admin"]}`);
    },
    'duplicate_key',
  ],
  ['opaque refresh-token-like string abc.def', () => 'abc.def', 'malformed_segments'],
  ['opaque id.secret refresh token', () => `${randomUUID()}.${'A'.repeat(43)}`, /malformed/],
  ['empty string', () => '', 'missing'],
  ['four segments', async () => `${await issuer.sign(issuer.claims())}.AAAA`, 'malformed_segments'],
];

describe('access token attack table (verifier)', () => {
  it('accepts the well-formed token the table is built from (control)', async () => {
    const claims = await verifier.verify(await issuer.sign(issuer.claims({ roles: ['admin'] })));
    expect(claims.roles).toEqual(['admin']);
    expect((await nodeCryptoVerifier.verify(await issuer.sign(issuer.claims()))).sub).toBe('user-1');
    const p256 = await verifier.verify(await issuer.sign(issuer.claims(), { key: ec() }));
    expect(p256.sub).toBe('user-1');
  });

  it.each(cases)('refuses: %s', async (_name, make, reason) => {
    const token = await make();
    for (const v of [verifier, nodeCryptoVerifier]) {
      const r = await refusal(v.verify(token));
      expect(r.code).toBe('invalid_token');
      if (reason instanceof RegExp) expect(r.reason).toMatch(reason);
      else if (reason) expect(r.reason).toBe(reason);
    }
  });

  it('an allow-list that includes HS256 still refuses HS256 keyed with a JWKS public key (the key decides the alg)', async () => {
    const v = createVerifier({ issuer: issuer.url, algorithms: ['EdDSA', 'ES256', 'HS256'] });
    try {
      const input = `${b64(header({ alg: 'HS256' }))}.${b64(issuer.claims())}`;
      const jwk = JSON.stringify(ed().publicJwk);
      const token = `${input}.${createHmac('sha256', jwk).update(input).digest('base64url')}`;
      expect(await refusal(v.verify(token))).toEqual({ code: 'invalid_token', reason: 'alg_key_mismatch' });
    } finally {
      await v.close();
    }
  });
});

describe('verifyAccessTokenJwt (the strict core)', () => {
  const resolver = async () => ed().publicKey;
  const opts = () => ({ issuer: issuer.url, audience: issuer.url, algorithms: ['EdDSA'] });

  it('returns claims and header', async () => {
    const { claims, header: h } = await verifyAccessTokenJwt(await issuer.sign(issuer.claims({ scope: 'a b' })), resolver, opts());
    expect(claims.scope).toBe('a b');
    expect(h.kid).toBe('ed-1');
  });

  it('a remembered header cannot be changed by a caller, and never skips a check for a new token', async () => {
    const first = await verifyAccessTokenJwt(await issuer.sign(issuer.claims()), resolver, opts());
    const second = await verifyAccessTokenJwt(await issuer.sign(issuer.claims()), resolver, opts());
    // The same header text, taken from the remembered set the second time: frozen, so no caller can set alg.
    expect(Object.isFrozen(second.header)).toBe(true);
    expect(() => Object.assign(second.header, { alg: 'none' })).toThrow(TypeError);
    expect(second.header).toEqual(first.header);
    // A remembered header still needs a good signature and good claims on every new token.
    const good = await issuer.sign(issuer.claims());
    const [h, p] = good.split('.');
    const stranger = await issuer.sign(issuer.claims(), { key: { ...ed(), privateKey: generateKeyPairSync('ed25519').privateKey } });
    expect((await refusal(verifyAccessTokenJwt(`${h}.${p}.${stranger.split('.')[2]}`, resolver, opts()))).reason).toBe('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
    const expired = await issuer.sign(issuer.claims({ iat: now() - 900, exp: now() - 600 }));
    expect(expired.split('.')[0]).toBe(h);
    expect((await refusal(verifyAccessTokenJwt(expired, resolver, opts()))).reason).toBe('ERR_JWT_EXPIRED');
  });

  it('accepts typ application/at+jwt (RFC 9068)', async () => {
    const token = await issuer.sign(issuer.claims(), { header: { typ: 'application/at+jwt' } });
    await expect(verifyAccessTokenJwt(token, resolver, opts())).resolves.toBeTruthy();
  });

  it('refuses before any key lookup when the structure is wrong', async () => {
    let lookups = 0;
    const counting = async () => {
      lookups++;
      return ed().publicKey;
    };
    for (const t of ['abc.def', `${b64(header({ alg: 'none' }))}.${b64(issuer.claims())}.AAAA`, 'x'.repeat(9000)]) {
      await refusal(verifyAccessTokenJwt(t, counting, opts()));
    }
    expect(lookups).toBe(0);
  });

  it('uses the caller allow-list, never the token: an ES256 token fails an EdDSA-only verifier', async () => {
    const token = await issuer.sign(issuer.claims(), { key: ec() });
    expect((await refusal(verifyAccessTokenJwt(token, async () => ec().publicKey, opts()))).reason).toBe('alg_not_allowed');
  });

  it('refuses "none" in the caller allow-list as misuse', async () => {
    await expect(verifyAccessTokenJwt('a.b.c', resolver, { ...opts(), algorithms: ['EdDSA', 'NONE'] })).rejects.toThrow(TypeError);
  });

  it('caps the clock tolerance at 60 s', async () => {
    const token = await issuer.sign(issuer.claims({ iat: now() - 600, exp: now() - 90 }));
    expect((await refusal(verifyAccessTokenJwt(token, resolver, { ...opts(), clockToleranceSec: 3600 }))).reason).toBe('ERR_JWT_EXPIRED');
    const recent = await issuer.sign(issuer.claims({ iat: now() - 600, exp: now() - 20 }));
    await expect(verifyAccessTokenJwt(recent, resolver, opts())).resolves.toBeTruthy();
  });

  it('honours a frozen clock', async () => {
    const t0 = 1_700_000_000;
    const token = await new SignJWT(issuer.claims({}, t0)).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'ed-1' }).sign(ed().privateKey);
    await expect(verifyAccessTokenJwt(token, resolver, { ...opts(), now: () => t0 * 1000 })).resolves.toBeTruthy();
    expect((await refusal(verifyAccessTokenJwt(token, resolver, { ...opts(), now: () => (t0 + 400) * 1000 }))).reason).toBe('ERR_JWT_EXPIRED');
  });
});
