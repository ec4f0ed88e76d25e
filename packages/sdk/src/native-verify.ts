import { KeyObject, verify as cryptoVerify } from 'node:crypto';
import { createRequire } from 'node:module';

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

/**
 * Which implementation checks Ed25519 signatures. Node's OpenSSL build verifies Ed25519 with the portable
 * 32-bit field arithmetic; libsodium (through the optional `sodium-native` package, prebuilt for common
 * platforms) does the same check about 1.6 times faster, and is stricter, never looser: it also refuses
 * non-canonical and small-order points, which no honest signer produces. 'auto' (the default) takes
 * libsodium when it loads and node:crypto otherwise.
 */
export type Ed25519Backend = 'auto' | 'libsodium' | 'node:crypto';

interface Sodium {
  crypto_sign_verify_detached(sig: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}
let sodium: Sodium | null | undefined;

/** libsodium's bindings, or null when `sodium-native` is not installed or does not load on this platform. */
export function loadSodium(): Sodium | null {
  if (sodium === undefined) {
    try {
      sodium = createRequire(import.meta.url)('sodium-native') as Sodium;
    } catch {
      sodium = null;
    }
  }
  return sodium;
}

/** The backend `choice` resolves to here; asking for libsodium where it does not load is an error. */
export function resolveEd25519Backend(choice: Ed25519Backend = 'auto'): 'libsodium' | 'node:crypto' {
  if (choice === 'node:crypto') return choice;
  if (loadSodium() !== null) return 'libsodium';
  if (choice === 'libsodium') throw new TypeError('ed25519Backend libsodium: the optional package sodium-native is not installed or does not load');
  return 'node:crypto';
}

/** An Ed25519 KeyObject's raw 32-byte public key, as libsodium takes it. */
const rawEd25519 = new WeakMap<KeyObject, Buffer>();
function rawPublicKey(key: KeyObject): Buffer {
  let raw = rawEd25519.get(key);
  if (raw === undefined) {
    raw = Buffer.from(key.export({ format: 'jwk' }).x ?? '', 'base64url');
    rawEd25519.set(key, raw);
  }
  return raw;
}

/** false for a wrong signature, including one of the wrong length (WebCrypto answers the same). */
export function verifyNative(alg: string, key: KeyObject, signingInput: Buffer, signature: Buffer, ed25519: 'libsodium' | 'node:crypto' = 'node:crypto'): boolean {
  try {
    if (alg !== 'EdDSA') return signature.length === 64 && cryptoVerify('sha256', signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature);
    // libsodium reads the first 64 bytes of a longer buffer: a signature with bytes appended must not pass.
    if (ed25519 === 'libsodium') return signature.length === 64 && sodium!.crypto_sign_verify_detached(signature, signingInput, rawPublicKey(key));
    return cryptoVerify(null, signingInput, key, signature);
  } catch {
    return false;
  }
}
