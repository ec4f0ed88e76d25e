import type { Clock } from '../../lib/clock.js';
import type { Store } from '../../store/ports/index.js';
import { hashRecoveryCode, newRecoveryCodes } from './codes.js';

/** Recovery codes: shown once, stored as SHA-256 hashes, each consumed once (atomically, in the store). */
export class RecoveryCodeService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** A fresh set replaces the old one entirely: a printed sheet that leaked stops working. */
  async regenerate(userId: string): Promise<string[]> {
    const codes = newRecoveryCodes();
    await this.store.replaceRecoveryCodes(userId, codes.map((c) => hashRecoveryCode(c)!), this.clock.now());
    return codes;
  }

  async consume(userId: string, code: string): Promise<boolean> {
    const hash = hashRecoveryCode(code);
    if (hash === null) return false;
    return this.store.consumeRecoveryCode(userId, hash, this.clock.now());
  }

  count(userId: string): Promise<number> {
    return this.store.countRecoveryCodes(userId);
  }

  remove(userId: string): Promise<void> {
    return this.store.deleteRecoveryCodes(userId);
  }
}
