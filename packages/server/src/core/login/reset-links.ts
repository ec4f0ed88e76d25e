import type { Clock } from '../../lib/clock.js';
import { newOpaqueToken } from '../crypto.js';
import type { ResetStore } from '../../store/ports/index.js';

/**
 * A single-use link to choose a password: `{issuer}/reset-password?token=id.secret`, only SHA-256(secret)
 * stored. The forgotten-password mail and the set-password mail of an account an admin created share it, so
 * both are consumed once, voided together and mark the mailbox proven alike.
 */
export async function issueResetLink(d: { resets: Pick<ResetStore, 'insertPasswordReset'>; clock: Clock; issuer: string }, userId: string, ttlSec: number): Promise<string> {
  const token = newOpaqueToken();
  const now = d.clock.now();
  await d.resets.insertPasswordReset({ id: token.id, userId, secretHash: token.hash, createdAt: now, expiresAt: now + ttlSec * 1000, usedAt: null });
  return `${d.issuer}/reset-password?token=${encodeURIComponent(token.value)}`;
}
