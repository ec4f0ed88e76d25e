import type { Clock } from '../../lib/clock.js';
import type { RevocationFeed } from '../revocations.js';
import type { SessionStore } from '../../store/ports/index.js';

/**
 * Ends sessions, durable first: the store revokes a session and appends its revocation-feed row in one
 * transaction, so no revoked session can be missing from the feed resource servers follow (a feed written
 * separately would lose every revocation made while the second write failed). Only after that commit are
 * the other nodes woken up; that wake-up is best effort, its failure is logged and never fails the request.
 */
export class SessionRevoker {
  constructor(
    private readonly store: Pick<SessionStore, 'revokeSession' | 'revokeUserSessions'>,
    private readonly feed: Pick<RevocationFeed, 'until' | 'announce'>,
    private readonly clock: Clock,
    private readonly onAnnounceError: (err: unknown) => void,
  ) {}

  /** Revoke one session: its refresh family dies at once, its access tokens via the feed. */
  async revoke(sessionId: string, reason: string): Promise<boolean> {
    const at = this.clock.now();
    const until = this.feed.until(at);
    const cursor = await this.store.revokeSession(sessionId, reason, at, until);
    if (cursor === null) return false;
    this.announce([{ cursor, sid: sessionId }], at, until);
    return true;
  }

  /** Revoke every live session of a user (but `exceptSessionId`); returns the revoked ids. */
  async revokeAll(userId: string, reason: string, exceptSessionId?: string): Promise<string[]> {
    const at = this.clock.now();
    const until = this.feed.until(at);
    const revoked = await this.store.revokeUserSessions(userId, reason, at, until, exceptSessionId);
    this.announce(revoked, at, until);
    return revoked.map((r) => r.sid);
  }

  private announce(rows: Array<{ sid: string; cursor: number }>, at: number, until: number): void {
    if (rows.length === 0) return;
    this.feed.announce(rows.map((r) => ({ cursor: r.cursor, sid: r.sid, sub: null, revokedAt: at, until }))).catch(this.onAnnounceError);
  }
}
