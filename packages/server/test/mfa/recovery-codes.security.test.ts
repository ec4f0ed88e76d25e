/**
 * Security review, item 10: a leaked recovery-code table must not be searchable. Codes are HMAC'd under
 * a key derived from the key-encryption key; codes stored before (unsalted SHA-256) keep working until the
 * set is regenerated.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBox, sha256 } from '../../src/core/crypto.js';
import { normalizeRecoveryCode } from '../../src/core/mfa/codes.js';
import { RECOVERY_KEY_INFO, RecoveryCodeService } from '../../src/core/mfa/recovery.js';
import { systemClock } from '../../src/lib/clock.js';
import { openSqlStore, type SqlStore } from '../../src/store/connect.js';

/** What a database leak shows of a user's codes. */
async function storedHashes(store: SqlStore, userId: string): Promise<string[]> {
  return (await store.db.selectFrom('recoveryCodes').select('codeHash').where('userId', '=', userId).execute()).map((r) => r.codeHash);
}

describe('recovery codes at rest', () => {
  let store: SqlStore;
  const kek = randomBytes(32);
  const service = () => new RecoveryCodeService(store, systemClock, new SecretBox(kek).deriveKey(RECOVERY_KEY_INFO));
  beforeAll(async () => {
    store = await openSqlStore('sqlite::memory:');
    await store.migrate();
    for (const id of ['u1', 'u2', 'u3']) {
      await store.createUser({ id, email: `${id}@example.com`, passwordHash: 'x', isAdmin: false, passwordResetRequired: false, createdAt: Date.now(), emailVerifiedAt: Date.now(), legacy: false, disabledAt: null });
    }
  });
  afterAll(async () => store?.close());

  it('a leaked table cannot be searched: no stored value is the SHA-256 of a code, and one code stores apart per user', async () => {
    const codes = await service().regenerate('u1');
    const leaked = await storedHashes(store, 'u1');
    expect(leaked).toHaveLength(10);
    for (const c of codes) {
      const n = normalizeRecoveryCode(c) ?? '';
      for (const guess of [sha256(`recovery:${n}`), sha256(n), sha256(c)]) expect(leaked).not.toContain(guess);
    }
    // The same code for another user, or under another deployment's key, stores differently.
    const other = new RecoveryCodeService(store, systemClock, new SecretBox(randomBytes(32)).deriveKey(RECOVERY_KEY_INFO));
    expect(await other.consume('u1', codes[0] ?? '')).toBe(false);
    expect(await service().consume('u2', codes[0] ?? '')).toBe(false);
    expect(await service().consume('u1', codes[0] ?? '')).toBe(true);
    expect(await service().consume('u1', codes[0] ?? '')).toBe(false);
  });

  it('codes stored unsalted before keep working once each, until the set is regenerated', async () => {
    const legacy = ['abcd-efgh-ijkl', 'mnop-qrst-uvwx'];
    await store.replaceRecoveryCodes('u3', legacy.map((c) => sha256(`recovery:${normalizeRecoveryCode(c) ?? ''}`)), Date.now());
    expect(await service().consume('u3', 'ABCD EFGH IJKL')).toBe(true);
    expect(await service().consume('u3', legacy[0] ?? '')).toBe(false);
    const fresh = await service().regenerate('u3');
    expect(await service().consume('u3', legacy[1] ?? '')).toBe(false);
    expect(await service().consume('u3', fresh[1] ?? '')).toBe(true);
  });
});
