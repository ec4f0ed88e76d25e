import { createHmac } from 'node:crypto';
import type { Clock } from '../../lib/clock.js';
import type { RecoveryCodeStore } from '../../store/ports/index.js';
import { legacyRecoveryCodeHash, newRecoveryCodes, normalizeRecoveryCode } from './codes.js';

/** HKDF `info` of the recovery-code key (derived from the key-encryption key, so every node agrees). */
export const RECOVERY_KEY_INFO = 'tessera recovery codes v1';

/**
 * Recovery codes: shown once, each consumed once (atomically, in the store), stored as an HMAC-SHA256 under
 * a key derived from the key-encryption key, over the user id and the code. A leaked table alone is then
 * useless: without the key no guess can be checked offline, and the same code of two users stores apart.
 *
 * Codes stored before this (unsalted SHA-256, `legacyRecoveryCodeHash`) keep working until the user's set is
 * regenerated: a code that does not match in the new form is looked up in the old one. The plain codes are
 * not kept, so old rows cannot be rehashed; each is spent by its use, and `regenerate` replaces the whole
 * set with HMAC'd codes. A code is stored in one form only, so the two lookups can never spend it twice.
 */
export class RecoveryCodeService {
  constructor(
    private readonly store: RecoveryCodeStore,
    private readonly clock: Clock,
    private readonly key: Buffer,
  ) {}

  /** The stored form of a normalised code for this user. */
  private stored(userId: string, normalized: string): string {
    return `h1:${createHmac('sha256', this.key).update(`${userId}\0${normalized}`).digest('base64url')}`;
  }

  /** A fresh set replaces the old one entirely: a printed sheet that leaked stops working. */
  async regenerate(userId: string): Promise<string[]> {
    const codes = newRecoveryCodes();
    const hashes = codes.map((c) => this.stored(userId, normalizeRecoveryCode(c) ?? c));
    await this.store.replaceRecoveryCodes(userId, hashes, this.clock.now());
    return codes;
  }

  async consume(userId: string, code: string): Promise<boolean> {
    const n = normalizeRecoveryCode(code);
    if (n === null) return false;
    const now = this.clock.now();
    if (await this.store.consumeRecoveryCode(userId, this.stored(userId, n), now)) return true;
    return this.store.consumeRecoveryCode(userId, legacyRecoveryCodeHash(n), now);
  }

  count(userId: string): Promise<number> {
    return this.store.countRecoveryCodes(userId);
  }

  remove(userId: string): Promise<void> {
    return this.store.deleteRecoveryCodes(userId);
  }
}
