import { KeyObject, verify as cryptoVerify } from 'node:crypto';

/**
 * Signature checks with node:crypto for the algorithms Tessera signs with. jose 6 verifies through WebCrypto,
 * whose every call is a thread-pool round trip; `crypto.verify` with a ready KeyObject runs inline and costs
 * about a third less per uncached token. Only keys that unambiguously fit the algorithm are taken: anything
 * else returns undefined and goes through jose exactly as before (which then refuses it).
 */
const NATIVE_ALGS = new Set(['EdDSA', 'ES256']);
const fromCryptoKey = new WeakMap<object, KeyObject | null>();

function fits(alg: string, key: KeyObject): boolean {
  if (key.type !== 'public') return false;
  if (alg === 'EdDSA') return key.asymmetricKeyType === 'ed25519';
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}

function cryptoKeyFits(alg: string, key: CryptoKey): boolean {
  if (key.type !== 'public' || !key.usages.includes('verify')) return false;
  const a = key.algorithm as { name: string; namedCurve?: string };
  return alg === 'EdDSA' ? a.name === 'Ed25519' : a.name === 'ECDSA' && a.namedCurve === 'P-256';
}

export function nativeKeyFor(alg: string, key: unknown): KeyObject | undefined {
  if (!NATIVE_ALGS.has(alg) || typeof key !== 'object' || key === null) return undefined;
  if (key instanceof KeyObject) return fits(alg, key) ? key : undefined;
  if (!(key instanceof CryptoKey) || !cryptoKeyFits(alg, key)) return undefined;
  let k = fromCryptoKey.get(key);
  if (k === undefined) {
    k = KeyObject.from(key);
    if (!fits(alg, k)) k = null;
    fromCryptoKey.set(key, k);
  }
  return k ?? undefined;
}

/** false for a wrong signature, including one of the wrong length (WebCrypto answers the same). */
export function verifyNative(alg: string, key: KeyObject, signingInput: Buffer, signature: Buffer): boolean {
  try {
    return alg === 'EdDSA'
      ? cryptoVerify(null, signingInput, key, signature)
      : signature.length === 64 && cryptoVerify('sha256', signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}
