import { createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadSodium, resolveEd25519Backend, verifyNative } from '../src/native-verify.js';

/**
 * libsodium checks Ed25519 signatures where it loads (it is faster than node:crypto). It may be stricter
 * than node:crypto, never looser: anything it accepts, node:crypto must accept too.
 */
const sodium = loadSodium();
const L = (1n << 252n) + 27742317777372353535851937790883648493n;

describe.skipIf(sodium === null)('Ed25519 through libsodium (sodium-native not loadable here: skipped)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const both = (message: Buffer, signature: Buffer, key = publicKey) => ({
    libsodium: verifyNative('EdDSA', key, message, signature, 'libsodium'),
    node: verifyNative('EdDSA', key, message, signature, 'node:crypto'),
  });

  it('is what auto resolves to here', () => {
    expect(resolveEd25519Backend()).toBe('libsodium');
    expect(resolveEd25519Backend('node:crypto')).toBe('node:crypto');
  });

  it('accepts what the key signed, refuses every changed bit of message or signature, like node:crypto', () => {
    for (let i = 0; i < 40; i++) {
      const message = randomBytes(1 + (i * 37) % 700);
      const signature = sign(null, message, privateKey);
      expect(both(message, signature)).toEqual({ libsodium: true, node: true });
      const bit = (i * 131) % (signature.length * 8);
      const badSig = Buffer.from(signature);
      badSig[bit >> 3] ^= 1 << (bit & 7);
      expect(both(message, badSig)).toEqual({ libsodium: false, node: false });
      const badMsg = Buffer.from(message);
      badMsg[i % badMsg.length] ^= 0x20;
      expect(both(badMsg, signature)).toEqual({ libsodium: false, node: false });
    }
  });

  it('refuses a signature with bytes appended or cut (libsodium itself reads only the first 64)', () => {
    const message = Buffer.from('header.payload');
    const signature = sign(null, message, privateKey);
    expect(both(message, Buffer.concat([signature, Buffer.from([0])]))).toEqual({ libsodium: false, node: false });
    expect(both(message, signature.subarray(0, 63))).toEqual({ libsodium: false, node: false });
  });

  it('refuses the malleable twin of a signature (S + L), as node:crypto does', () => {
    const message = Buffer.from('header.payload');
    const signature = sign(null, message, privateKey);
    const s = BigInt(`0x${Buffer.from(signature.subarray(32)).reverse().toString('hex')}`) + L;
    const twin = Buffer.concat([signature.subarray(0, 32), Buffer.from(s.toString(16).padStart(64, '0'), 'hex').reverse()]);
    expect(both(message, twin)).toEqual({ libsodium: false, node: false });
  });

  it('refuses a small-order public key that "signs" every message with R = identity, S = 0', () => {
    // The identity point as a key: sB - hA = 0 = R for any message. A lenient verifier accepts that.
    const identity = Buffer.alloc(32);
    identity[0] = 1;
    const weak = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: identity.toString('base64url') }, format: 'jwk' });
    const forged = Buffer.concat([identity, Buffer.alloc(32)]);
    expect(both(Buffer.from('any.token'), forged, weak).libsodium).toBe(false);
  });
});

it('asking for libsodium by name where it does not load is an error, not a silent fallback', () => {
  if (sodium !== null) expect(resolveEd25519Backend('libsodium')).toBe('libsodium');
  else expect(() => resolveEd25519Backend('libsodium')).toThrow(TypeError);
});
