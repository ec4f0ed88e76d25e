/**
 * Compact JWS signing straight on node:crypto (RFC 7515): jose's SignJWT goes through WebCrypto, whose
 * promise plumbing and key checks cost ~9 % of a refresh. Keys are turned into KeyObjects once and the
 * encoded header is kept per key id, so a token costs two JSON encodings and one signature.
 */
import { KeyObject, createHmac, sign } from 'node:crypto';
import { boundedMemo } from '../lib/memo.js';

export type JwsAlg = 'EdDSA' | 'ES256' | 'HS256';

const keyObjects = new WeakMap<object, KeyObject>();

function keyObject(key: CryptoKey): KeyObject {
  let k = keyObjects.get(key);
  if (!k) {
    k = KeyObject.from(key);
    keyObjects.set(key, k);
  }
  return k;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64url');

/** the encoded protected header of `alg typ kid` ({alg, typ, kid}, in that order, as jose writes it); alg and typ have no spaces */
const headerOf = boundedMemo(64, (hk: string): string => {
  const i = hk.indexOf(' ');
  const j = hk.indexOf(' ', i + 1);
  return b64(JSON.stringify({ alg: hk.slice(0, i), typ: hk.slice(i + 1, j), kid: hk.slice(j + 1) }));
});

/** `header.payload.signature` with the protected header {alg, typ, kid} */
export function signJws(alg: JwsAlg, typ: string, kid: string, payload: object, key: CryptoKey | Uint8Array): string {
  const input = `${headerOf(`${alg} ${typ} ${kid}`)}.${b64(JSON.stringify(payload))}`;
  let sig: Buffer;
  if (alg === 'HS256') {
    if (!(key instanceof Uint8Array)) throw new TypeError('HS256 needs a secret');
    sig = createHmac('sha256', key).update(input).digest();
  } else {
    if (key instanceof Uint8Array) throw new TypeError(`${alg} needs a private key`);
    const k = keyObject(key);
    // ES256 signatures are r || s (RFC 7518 §3.4), not DER
    sig = alg === 'ES256' ? sign('sha256', Buffer.from(input), { key: k, dsaEncoding: 'ieee-p1363' }) : sign(null, Buffer.from(input), k);
  }
  return `${input}.${sig.toString('base64url')}`;
}
