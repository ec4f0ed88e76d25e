import type { Clock } from '../lib/clock.js';
import type { EventLog } from './events.js';
import { isEmailVerified } from './lifecycle/verified.js';
import { normalizeEmail } from './passwords.js';
import type { SessionService } from './sessions.js';
import type { LifecycleStore, UserRow, UserStore } from '../store/ports/index.js';

export interface AdminUserItem {
  id: string;
  email: string;
  email_verified: boolean;
  created_at: string;
  last_sign_in_at: string | null;
  mfa: boolean;
  disabled: boolean;
  password_reset_required: boolean;
  admin: boolean;
}

export interface AdminUsersDeps {
  users: Pick<UserStore, 'listUsers' | 'getUserById'>;
  lifecycle: Pick<LifecycleStore, 'userFacts' | 'setDisabledAt'>;
  sessions: Pick<SessionService, 'revokeAll'>;
  events: EventLog;
  clock: Clock;
}

/** The admin user list, and disabling (the HTTP layer enforces the admin's recent second-factor sign-in). */
export class AdminUsers {
  constructor(private readonly d: AdminUsersDeps) {}

  /**
   * One page in (created_at, id) order, on the store's index: `query` is an exact id or an email prefix
   * (normalized as emails are stored).
   */
  async list(q: { query?: string; limit: number; cursor?: string }): Promise<{ items: AdminUserItem[]; nextCursor: string | null }> {
    const query = q.query?.trim() ?? '';
    const byId = query !== '' && !q.cursor ? await this.d.users.getUserById(query) : undefined;
    const page = byId
      ? { items: [byId], nextCursor: null }
      : await this.d.users.listUsers({ limit: q.limit, ...(query ? { query: normalizeEmail(query) } : {}), ...(q.cursor ? { cursor: q.cursor } : {}) });
    const facts = await this.d.lifecycle.userFacts(page.items.map((u) => u.id));
    return { items: page.items.map((u) => this.item(u, facts.get(u.id))), nextCursor: page.nextCursor };
  }

  item(u: UserRow, facts: { lastSignInAt: number | null; mfa: boolean } | undefined): AdminUserItem {
    return {
      id: u.id,
      email: u.email,
      email_verified: isEmailVerified(u),
      created_at: new Date(u.createdAt).toISOString(),
      last_sign_in_at: facts?.lastSignInAt != null ? new Date(facts.lastSignInAt).toISOString() : null,
      mfa: facts?.mfa ?? false,
      disabled: u.disabledAt !== null,
      password_reset_required: u.passwordResetRequired,
      admin: u.isAdmin,
    };
  }

  /** Disabled: no sign-in or refresh (403 `account_disabled`), and every session revoked through the feed now. */
  async disable(user: UserRow, by: { ip: string; adminId: string }): Promise<void> {
    await this.d.lifecycle.setDisabledAt(user.id, this.d.clock.now());
    const ids = await this.d.sessions.revokeAll(user.id, 'account_disabled');
    await this.d.events.record({ type: 'account_disabled', userId: user.id, ip: by.ip, data: { by_admin: by.adminId, sessions: ids.length } });
  }

  async enable(user: UserRow, by: { ip: string; adminId: string }): Promise<void> {
    await this.d.lifecycle.setDisabledAt(user.id, null);
    await this.d.events.record({ type: 'account_enabled', userId: user.id, ip: by.ip, data: { by_admin: by.adminId } });
  }
}
