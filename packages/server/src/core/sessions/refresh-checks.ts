/**
 * The checks a refresh passes before anything is rotated, one function per attack, in the order
 * SessionService.refresh runs them. Each throws the coded error the client sees and keeps the internal
 * reason for the log.
 */
import { parseOpaqueToken, safeEqual, sha256 } from '../crypto.js';
import { TesseraError } from '../errors.js';
import type { RequestContext } from './types.js';
import type { RefreshFamily, RefreshTokenRow, SessionRow } from '../../store/ports/index.js';

/** Hook run before a refresh is granted; throws to refuse (the risk engine's `onRefresh`). */
export type RefreshGuard = (session: SessionRow, ctx: RequestContext) => Promise<void>;

/**
 * Forged and guessed tokens: the id finds the row, and only the secret's hash, compared in constant time,
 * proves possession (the id is not secret, the secret is). `family` is what the store read for that id.
 */
export function presentedToken(family: RefreshFamily | undefined, presented: string): RefreshFamily {
  const parsed = parseOpaqueToken(presented);
  if (!parsed) throw new TesseraError('invalid_grant', { reason: 'malformed refresh token' });
  if (!family || family.token.id !== parsed.id || !safeEqual(family.token.secretHash, sha256(parsed.secret))) {
    throw new TesseraError('invalid_grant', { reason: 'unknown refresh token' });
  }
  return family;
}

export interface FamilyRules {
  now: number;
  idleTtlMs: number;
  /** ends a session found idle too long */
  revoke: (sessionId: string, reason: string) => Promise<unknown>;
}

/**
 * Tokens of a dead sign-in: a revoked, expired or idle session refreshes nothing. A consumed token of a
 * revoked family is still reported as a replay, so clients can tell theft from expiry.
 */
export async function liveFamily(session: SessionRow, row: RefreshTokenRow, rules: FamilyRules): Promise<void> {
  if (session.revokedAt !== null) {
    if (row.usedAt !== null) throw new TesseraError('refresh_token_reused', { reason: 'replay of a revoked family' });
    throw new TesseraError('invalid_grant', { reason: 'session revoked' });
  }
  if (rules.now >= session.expiresAt || rules.now >= row.expiresAt) throw new TesseraError('invalid_grant', { reason: 'session expired' });
  if (rules.now - session.lastSeenAt > rules.idleTtlMs) {
    await rules.revoke(session.id, 'idle_timeout');
    throw new TesseraError('invalid_grant', { reason: 'session idle too long' });
  }
}

/**
 * A stolen refresh token of a DPoP-bound session is useless alone: the refresh needs a proof from the
 * session's own key (RFC 9449 §5).
 */
export function requireSessionKey(session: SessionRow, ctx: RequestContext): void {
  if (session.dpopJkt && session.dpopJkt !== ctx.dpopJkt) {
    throw new TesseraError('invalid_dpop_proof', { reason: 'refresh without the session key' });
  }
}

/** Who rotated a token: the DPoP key when there is one, else user agent + IP. */
export function clientFingerprint(ctx: RequestContext): string {
  return ctx.dpopJkt ? `jkt:${ctx.dpopJkt}` : `ua:${sha256(`${ctx.userAgent ?? ''}\n${ctx.ip}`)}`;
}
