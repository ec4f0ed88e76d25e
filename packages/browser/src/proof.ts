import type { StoredKey } from './keystore.js';

/** What one DPoP proof (RFC 9449 §4.2) says about its request. */
export interface ProofClaims {
  htm: string;
  htu: string;
  /** seconds, on the server's clock */
  iat: number;
  /** base64url(SHA-256(access token)) when a bound token goes with the request */
  ath?: string | undefined;
  /** the server's latest DPoP-Nonce */
  nonce?: string | undefined;
}

const encoder = new TextEncoder();

function b64url(bytes: ArrayBuffer | Uint8Array): string {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let s = '';
  for (const b of u8) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const publicJwks = new WeakMap<CryptoKey, Promise<Record<string, string>>>();

/** The public half as a JWK with only its public members (the proof header carries it). */
function publicJwk(key: CryptoKey): Promise<Record<string, string>> {
  let jwk = publicJwks.get(key);
  if (jwk === undefined) {
    jwk = crypto.subtle.exportKey('jwk', key).then((j) => ({ kty: String(j.kty), crv: String(j.crv), x: String(j.x), y: String(j.y) }));
    publicJwks.set(key, jwk);
  }
  return jwk;
}

/** `htu`: the absolute URL without query and fragment. */
export function htuOf(url: string): string {
  const u = new URL(url, location.href);
  return `${u.origin}${u.pathname}`;
}

/** A signed `dpop+jwt`: ES256 over the header and claims, the signature in JWS's raw r||s form. */
export async function signProof(key: StoredKey, claims: ProofClaims): Promise<string> {
  const jti = b64url(crypto.getRandomValues(new Uint8Array(16)));
  const header = { typ: 'dpop+jwt', alg: key.alg, jwk: await publicJwk(key.publicKey) };
  const payload = {
    jti,
    htm: claims.htm,
    htu: claims.htu,
    iat: claims.iat,
    ...(claims.ath !== undefined ? { ath: claims.ath } : {}),
    ...(claims.nonce !== undefined ? { nonce: claims.nonce } : {}),
  };
  const input = `${b64url(encoder.encode(JSON.stringify(header)))}.${b64url(encoder.encode(JSON.stringify(payload)))}`;
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key.privateKey, encoder.encode(input));
  return `${input}.${b64url(signature)}`;
}
