/**
 * Forged and malformed access tokens that every Tessera verifier must refuse: the server's own
 * TokenService, the SDK, and the HTTP edge all run this one table. Tokens are assembled byte by byte with
 * node:crypto (not jose), so nothing in the table is "helpfully" rejected or normalised while being built.
 */
import { createHmac, createPublicKey, generateKeyPairSync, KeyObject, randomBytes, sign as nodeSign } from 'node:crypto';
import type { JWK } from 'jose';

export type AttackAlg = 'EdDSA' | 'ES256' | 'HS256';

export interface AttackContext {
  alg: AttackAlg;
  /** the verifier's real current kid */
  kid: string;
  /** the verifier's real signing key: private CryptoKey (EdDSA, ES256) or the HS256 secret bytes */
  key: CryptoKey | Uint8Array | KeyObject;
  /** the published public JWK of `kid` (asymmetric algorithms; drives the algorithm-confusion cases) */
  publicJwk?: JWK;
  issuer: string;
  audience: string;
  /** the verifier's clock, epoch seconds */
  nowSec: number;
  /** a real user and live session, so that over HTTP the control token is accepted end to end */
  sub?: string;
  sid?: string;
}

export interface AttackCase {
  name: string;
  token: string;
}

type SigningKeyInput = KeyObject | Uint8Array;

const b64u = (input: string | Buffer): string => Buffer.from(input).toString('base64url');

function toKeyInput(key: AttackContext['key']): SigningKeyInput {
  if (key instanceof KeyObject || key instanceof Uint8Array) return key;
  return KeyObject.from(key);
}

function signature(alg: string, key: SigningKeyInput, input: string): Buffer {
  if (alg === 'HS256') {
    const secret = key instanceof KeyObject ? key.export() : Buffer.from(key);
    return createHmac('sha256', secret).update(input).digest();
  }
  if (!(key instanceof KeyObject)) throw new TypeError(`${alg} needs a KeyObject`);
  if (alg === 'EdDSA') return nodeSign(null, Buffer.from(input), key);
  if (alg === 'ES256') return nodeSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  throw new TypeError(`unsupported alg ${alg}`);
}

/** Compact JWS from raw header and payload JSON text (so duplicate keys survive), signed as `signAs`. */
export function compact(headerJson: string, payloadJson: string, signAs: { alg: string; key: SigningKeyInput } | null): string {
  const input = `${b64u(headerJson)}.${b64u(payloadJson)}`;
  return `${input}.${signAs ? signature(signAs.alg, signAs.key, input).toString('base64url') : ''}`;
}

export function validClaims(ctx: AttackContext): Record<string, unknown> {
  return {
    iss: ctx.issuer,
    sub: ctx.sub ?? 'user-1',
    aud: ctx.audience,
    exp: ctx.nowSec + 300,
    iat: ctx.nowSec,
    jti: 'jti-1',
    sid: ctx.sid ?? 'sid-1',
    auth_time: ctx.nowSec - 10,
    amr: ['pwd'],
    roles: [],
  };
}

export function validHeader(ctx: AttackContext): Record<string, unknown> {
  return { alg: ctx.alg, typ: 'at+jwt', kid: ctx.kid };
}

/**
 * The control: built by the same code as the attacks and accepted by a correct verifier. A suite asserts it
 * verifies, so each attack below is known to fail for its own reason, not because the builder is broken.
 */
export function controlToken(ctx: AttackContext): string {
  return compact(JSON.stringify(validHeader(ctx)), JSON.stringify(validClaims(ctx)), { alg: ctx.alg, key: toKeyInput(ctx.key) });
}

function attackerKey(alg: AttackAlg): { key: SigningKeyInput; jwk: JWK } {
  if (alg === 'HS256') {
    const secret = randomBytes(32);
    return { key: secret, jwk: { kty: 'oct', k: secret.toString('base64url') } };
  }
  const { privateKey, publicKey } =
    alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { key: privateKey, jwk: publicKey.export({ format: 'jwk' }) };
}

export function attackCases(ctx: AttackContext): AttackCase[] {
  const ours = { alg: ctx.alg, key: toKeyInput(ctx.key) };
  const attacker = attackerKey(ctx.alg);
  const theirs = { alg: ctx.alg, key: attacker.key };
  const header = validHeader(ctx);
  const claims = validClaims(ctx);
  const json = (o: Record<string, unknown>) => JSON.stringify(o);
  const withHeader = (extra: Record<string, unknown>, signAs: { alg: string; key: SigningKeyInput } | null = ours) =>
    compact(json({ ...header, ...extra }), json(claims), signAs);
  const withClaims = (extra: Record<string, unknown>) => compact(json(header), json({ ...claims, ...extra }), ours);
  const control = controlToken(ctx);
  const [ch, cp, cs] = control.split('.') as [string, string, string];
  const cases: AttackCase[] = [];
  const add = (name: string, token: string) => cases.push({ name, token });

  // Unsigned tokens: "none" in any casing must never select "no verification".
  for (const none of ['none', 'None', 'NONE', 'nOnE']) {
    add(`alg ${none}`, withHeader({ alg: none }, null));
    add(`alg ${none} with the control's signature`, `${b64u(json({ ...header, alg: none }))}.${cp}.${cs}`);
  }

  // Algorithm confusion: an HMAC keyed with the public key, which anyone can fetch from the JWKS.
  if (ctx.publicJwk?.x !== undefined && ctx.publicJwk.crv !== undefined) {
    const { kty, crv, x, y } = ctx.publicJwk;
    const hs = (key: Uint8Array) => withHeader({ alg: 'HS256' }, { alg: 'HS256', key });
    const spki = createPublicKey({ key: { kty, crv, x, ...(y === undefined ? {} : { y }) }, format: 'jwk' });
    add('HS256 keyed with the public key PEM', hs(Buffer.from(spki.export({ type: 'spki', format: 'pem' }))));
    add('HS256 keyed with the public JWK JSON', hs(Buffer.from(JSON.stringify(y === undefined ? { crv, kty, x } : { crv, kty, x, y }))));
    add('HS256 keyed with the raw public key bytes', hs(Buffer.from(x, 'base64url')));
    add('HS256 keyed with the public key DER', hs(spki.export({ type: 'spki', format: 'der' })));
  }

  // Key selection: the header must not choose or supply the key.
  add('signed by another key under our kid', withHeader({}, theirs));
  add('unknown kid (signed by our key)', withHeader({ kid: 'unknown-kid' }));
  add('missing kid', compact(json({ alg: ctx.alg, typ: 'at+jwt' }), json(claims), ours));
  add('embedded jwk (attacker key, our kid)', withHeader({ jwk: attacker.jwk }, theirs));
  add('embedded jwk (attacker key, no kid)', compact(json({ alg: ctx.alg, typ: 'at+jwt', jwk: attacker.jwk }), json(claims), theirs));
  add('jku header (attacker key)', withHeader({ jku: 'https://attacker.example/jwks.json' }, theirs));
  add('x5u header (attacker key)', withHeader({ x5u: 'https://attacker.example/cert.pem' }, theirs));
  add('crit with an unknown extension (signed by our key)', withHeader({ crit: ['x-tessera-ext'], 'x-tessera-ext': true }));
  add('crit b64=false unencoded payload (signed by our key)', (() => {
    const h = b64u(json({ ...header, b64: false, crit: ['b64'] }));
    const payload = json(claims);
    return `${h}.${payload}.${signature(ours.alg, ours.key, `${h}.${payload}`).toString('base64url')}`;
  })());

  // Integrity.
  add('tampered payload (sub and roles changed)', `${ch}.${b64u(json({ ...claims, sub: 'admin', roles: ['admin'] }))}.${cs}`);
  add('stripped signature', `${ch}.${cp}.`);
  add('signature of another token', `${ch}.${cp}.${withClaims({ jti: 'other' }).split('.')[2]}`);
  add('two segments', `${ch}.${cp}`);

  // Claims.
  add('expired beyond the 60 s leeway', withClaims({ exp: ctx.nowSec - 120, iat: ctx.nowSec - 420 }));
  add('nbf in the future beyond the leeway', withClaims({ nbf: ctx.nowSec + 120 }));
  add('no exp', compact(json(header), json({ ...claims, exp: undefined }), ours));
  add('wrong iss', withClaims({ iss: 'https://attacker.example' }));
  add('wrong aud', withClaims({ aud: 'https://other-api.example' }));
  add('aud array without us', withClaims({ aud: ['https://other-api.example', 'https://third.example'] }));
  for (const typ of ['JWT', 'dpop+jwt', 'mfa+jwt']) add(`typ ${typ}`, withHeader({ typ }));
  add('no typ', compact(json({ alg: ctx.alg, kid: ctx.kid }), json(claims), ours));

  // Other credentials presented as an access token.
  add('refresh-token-like opaque id.secret', `${randomBytes(16).toString('base64url')}.${randomBytes(32).toString('base64url')}`);
  add('mfa-token-like opaque string', `mfa_${randomBytes(32).toString('base64url')}`);
  add('empty string', '');

  // Size and encoding.
  add('over 8 KiB (validly signed)', withClaims({ pad: 'a'.repeat(9000) }));
  add('malformed base64url header', `${ch.slice(0, -2)}!*.${cp}.${cs}`);
  // Validly signed over segments a lenient decoder would accept: the encoding itself must be strict.
  const signedSegments = (h: string, p: string) => `${h}.${p}.${signature(ours.alg, ours.key, `${h}.${p}`).toString('base64url')}`;
  add('base64 padding in the payload (validly signed)', signedSegments(ch, `${b64u(json({ ...claims, p: 'x' }))}=`));
  add('standard base64 alphabet in the payload (validly signed)', signedSegments(ch, standardBase64WithPlusSlash(claims)));
  add('whitespace inside the payload segment (validly signed)', signedSegments(ch, `${cp.slice(0, 8)} ${cp.slice(8)}`));
  add('header is not JSON', compact('not json', json(claims), ours));
  add('payload is not a JSON object', compact(json(header), '["sub","admin"]', ours));

  // Parser differentials: a duplicate key is read as "admin" here and as "a" by another JSON parser.
  const dupPayload = json(claims).replace(/^\{"iss"/, '{"sub":"a","iss"').replace('"sub":"user-1"', '"sub":"admin"');
  add('duplicate JSON keys in the payload (validly signed)', compact(json(header), dupPayload, ours));
  add('duplicate alg in the header (validly signed)', compact(`{"alg":"none",${json(header).slice(1)}`, json(claims), ours));
  return cases;
}

/** Standard-alphabet base64 of the claims that really contains "+" or "/" (a filler claim shifts the bytes). */
function standardBase64WithPlusSlash(claims: Record<string, unknown>): string {
  for (let i = 0; ; i++) {
    const text = Buffer.from(JSON.stringify({ ...claims, f: `${'?'.repeat(i)}>>>???~~~` })).toString('base64').replace(/=+$/, '');
    if (/[+/]/.test(text)) return text;
  }
}

/**
 * The context of a live server: its real current signing key and the claims of a real signed-in user, so
 * the control token passes every check end to end and each attack fails only for its own reason.
 */
export function liveAttackContext(
  server: { keys: { signingKey(): { kid: string; key: unknown }; jwks(): { keys: JWK[] } }; config: { issuer: string; audience: string } },
  alg: AttackAlg,
  accessToken: string,
): AttackContext {
  const claims = JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString('utf8')) as { sub: string; sid: string };
  const { kid, key } = server.keys.signingKey();
  const publicJwk = server.keys.jwks().keys.find((k) => k.kid === kid);
  return {
    alg,
    kid,
    key: key as AttackContext['key'],
    issuer: server.config.issuer,
    audience: server.config.audience,
    nowSec: Math.floor(Date.now() / 1000),
    sub: claims.sub,
    sid: claims.sid,
    ...(publicJwk ? { publicJwk } : {}),
  };
}
