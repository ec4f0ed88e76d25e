import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newOpaqueToken, randomId, randomToken, SecretBox, sha256 } from '../../src/core/crypto.js';

describe('pooled random values (core/crypto.ts)', () => {
  it('never repeat, across many refills of the 4 KiB batch, and have the requested length', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      for (const v of [randomId(), randomToken(), randomToken(7), newOpaqueToken().secret]) {
        expect(seen.has(v)).toBe(false);
        seen.add(v);
      }
    }
    expect(Buffer.from(randomId(), 'base64url')).toHaveLength(16);
    expect(Buffer.from(randomToken(), 'base64url')).toHaveLength(32);
    expect(Buffer.from(randomToken(300), 'base64url')).toHaveLength(300); // beyond the batch: randomBytes
  });

  it('are not all zero (the wiped bytes are never handed out)', () => {
    for (let i = 0; i < 2000; i++) expect(Buffer.from(randomId(), 'base64url').equals(Buffer.alloc(16))).toBe(false);
  });

  it('look uniform: each byte value about as often as any other', () => {
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < 8000; i++) for (const b of Buffer.from(randomToken(), 'base64url')) counts[b] += 1;
    // 1000 expected per value; a sound generator stays well within ±25 %
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(250);
  });

  it('give each sealed secret its own IV', () => {
    const box = new SecretBox(randomBytes(32));
    const ivs = new Set(Array.from({ length: 3000 }, () => box.seal('x').split('.')[1]));
    expect(ivs.size).toBe(3000);
    expect(box.open(box.seal('secret', 'aad'), 'aad')).toBe('secret');
  });

  it('sha256 is the base64url SHA-256 of UTF-8 text and of bytes', () => {
    for (const input of ['', 'abc', 'é✓😀', Buffer.from([0, 1, 255])]) {
      expect(sha256(input)).toBe(createHash('sha256').update(input).digest('base64url'));
    }
  });
});
