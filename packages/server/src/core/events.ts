import type { Clock } from '../lib/clock.js';
import type { EventRow, EventStore, NewEvent } from '../store/ports/index.js';
import { eventTitle } from './notices/wording.js';

export type SecurityEventType =
  | 'account_created'
  | 'email_verified'
  | 'sign_up_existing'
  | 'account_reclaimed'
  | 'login_succeeded'
  | 'login_failed'
  | 'logout'
  | 'session_revoked'
  | 'sessions_revoked'
  | 'refresh_token_reused'
  | 'password_changed'
  | 'password_reset_requested'
  | 'password_reset_completed'
  | 'password_reset_required'
  | 'account_unlocked'
  | 'mfa_enrolled'
  | 'mfa_removed'
  | 'mfa_failed'
  | 'recovery_codes_regenerated'
  | 'recovery_code_used'
  | 'passkey_added'
  | 'passkey_removed'
  | 'impossible_travel'
  | 'session_anomaly'
  | 'new_country'
  | 'new_device'
  | 'keys_rotated'
  | 'password_change_failed'
  | 'login_approval_requested'
  | 'login_approved'
  | 'totp_locked'
  | 'oauth_authorized'
  | 'oauth_consent_granted'
  | 'oauth_logout'
  | 'oauth_consent_revoked'
  | 'authorization_code_reused'
  | 'email_change_requested'
  | 'email_changed'
  | 'account_deleted'
  | 'account_disabled'
  | 'account_enabled';

/** The append-only security log: what users see under /v1/events and admins under /v1/admin/events. */
export class EventLog {
  /** told of every recorded event (metrics); never throws into the caller */
  observer: ((type: SecurityEventType) => void) | undefined;
  /** told of every recorded event after it is stored (the security notices); must not throw */
  readonly listeners: Array<(ev: NewEvent) => void> = [];

  constructor(
    private readonly store: EventStore,
    private readonly clock: Clock,
  ) {}

  async record(ev: { type: SecurityEventType; userId?: string | null; sessionId?: string | null; ip?: string | null; data?: Record<string, unknown> }): Promise<number> {
    const row: NewEvent = {
      type: ev.type,
      userId: ev.userId ?? null,
      sessionId: ev.sessionId ?? null,
      ip: ev.ip ?? null,
      data: ev.data ?? {},
      createdAt: this.clock.now(),
    };
    const id = await this.store.appendEvent(row);
    this.observer?.(ev.type);
    for (const listener of this.listeners) listener(row);
    return id;
  }

  list(q: { userId?: string; type?: string; limit?: number; beforeId?: number }): Promise<EventRow[]> {
    return this.store.listEvents({ ...q, limit: Math.min(q.limit ?? 50, 200) });
  }
}

export function eventToJson(e: EventRow): Record<string, unknown> {
  return {
    id: e.id,
    type: e.type,
    title: eventTitle(e.type, e.data),
    user_id: e.userId,
    session_id: e.sessionId,
    ip: e.ip,
    data: e.data,
    created_at: new Date(e.createdAt).toISOString(),
  };
}
