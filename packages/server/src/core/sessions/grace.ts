import type { SecretBox } from '../crypto.js';
import type { RefreshTokenRow } from '../../store/ports/index.js';

/** The pair a rotation issued, kept sealed on the consumed token for the grace window only. */
export interface SealedPair {
  accessToken: string;
  accessExp: number;
  refreshToken: string;
}

export function sealPair(box: SecretBox, tokenId: string, pair: SealedPair): string {
  return box.seal(JSON.stringify(pair), `grace:${tokenId}`);
}

/**
 * Several tabs or a retried request must not sign a user out: the client that rotated a token (same
 * fingerprint), presenting it again within the grace window, gets the very same successor pair. Anyone
 * else, or anyone later, gets nothing here and trips reuse detection instead (theft).
 */
export function graceReplay(box: SecretBox, row: RefreshTokenRow | undefined, q: { now: number; graceMs: number; fingerprint: string }): SealedPair | null {
  if (row?.usedAt == null || !row.successorSealed || q.graceMs <= 0) return null;
  if (q.now - row.usedAt > q.graceMs || row.usedBy !== q.fingerprint) return null;
  return JSON.parse(box.open(row.successorSealed, `grace:${row.id}`)) as SealedPair;
}
