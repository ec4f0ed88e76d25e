import type { Clock } from '../../lib/clock.js';
import { parseOpaqueToken, safeEqual, sha256, newOpaqueToken } from '../crypto.js';
import { TesseraError } from '../errors.js';
import type { EventLog } from '../events.js';
import type { SecurityNotices } from '../notices/notices.js';
import { accountDeletedMail, emailChangeConfirmMail, emailChangedMail, emailChangeRequestedMail } from '../notices/templates.js';
import { normalizeNewEmail } from '../passwords.js';
import type { RequestContext, SessionService } from '../sessions.js';
import type { LifecycleStore, ResetStore, UserRow, UserStore } from '../../store/ports/index.js';
import { requireVerifiedEmail } from './verified.js';

export { accountExport, type AccountExport, type ExportDeps } from './export.js';
export { isEmailVerified } from './verified.js';

/** the fields of event data that describe a person (where, from what, which address): erased with the account */
export const PERSONAL_EVENT_FIELDS = [
  'user_agent', 'ip', 'approved_ip', 'fromIp', 'toIp', 'from', 'to', 'location', 'city', 'country', 'device', 'name', 'email', 'new_email', 'old_email',
] as const;

const CHANGE_TTL_SEC = 24 * 3600;

export interface LifecycleDeps {
  users: Pick<UserStore, 'getUserById'>;
  lifecycle: LifecycleStore;
  resets: Pick<ResetStore, 'voidPasswordResets'>;
  sessions: Pick<SessionService, 'revokeAll'>;
  events: EventLog;
  notices: SecurityNotices;
  clock: Clock;
  /** the sign-in failure counters kept per address (shared state) */
  clearCounters: (email: string) => Promise<void>;
}

/** who asked: the signed-in user's session, or an administrator */
export interface Actor {
  ip: string;
  sessionId?: string;
  adminId?: string;
}

const INVALID_LINK = { detail: 'The confirmation link is invalid or has expired.' };

/** Change of email and deletion of an account (the HTTP layer enforces the recent sign-in). */
export class LifecycleService {
  constructor(
    private readonly d: LifecycleDeps,
    private readonly cfg: { issuer: string },
  ) {}

  /**
   * Mails a confirmation link to the new address and a notice to the old one. A taken address gets the same
   * link and the same answer (it fails at confirmation), so asking enumerates no accounts.
   */
  async requestEmailChange(user: UserRow, newEmailInput: string, by: Actor): Promise<void> {
    requireVerifiedEmail(user);
    const newEmail = normalizeNewEmail(newEmailInput);
    const token = newOpaqueToken();
    const now = this.d.clock.now();
    await this.d.lifecycle.insertEmailChange({ id: token.id, userId: user.id, newEmail, secretHash: token.hash, createdAt: now, expiresAt: now + CHANGE_TTL_SEC * 1000, usedAt: null });
    await this.d.events.record({ type: 'email_change_requested', userId: user.id, sessionId: by.sessionId ?? null, ip: by.ip });
    const link = `${this.cfg.issuer}/confirm-email?token=${encodeURIComponent(token.value)}`;
    this.d.notices.send(newEmail, emailChangeConfirmMail({ link, newEmail, expiresInHours: CHANGE_TTL_SEC / 3600 }));
    this.d.notices.send(user.email, emailChangeRequestedMail({ newEmail, at: now, resetLink: `${this.cfg.issuer}/forgot-password` }));
  }

  /**
   * The new address proved by its link: the email is replaced (409 `email_taken` if another account took it
   * meanwhile), every session but the confirming one (signed in as the same user) ends, reset links mailed to the old address die, both are told.
   */
  async confirmEmailChange(tokenValue: string, ctx: Pick<RequestContext, 'ip'>, viewerSessionId?: string, viewerId?: string): Promise<void> {
    const parsed = parseOpaqueToken(tokenValue);
    const row = parsed ? await this.d.lifecycle.getEmailChange(parsed.id) : undefined;
    if (!parsed || !row || !safeEqual(row.secretHash, sha256(parsed.secret))) throw new TesseraError('invalid_grant', { ...INVALID_LINK, reason: 'unknown email change token' });
    const user = await this.d.users.getUserById(row.userId);
    if (!user) throw new TesseraError('invalid_grant', INVALID_LINK);
    // consume once: a link clicked twice, or replayed from a mailbox, changes the email once
    if (!(await this.d.lifecycle.consumeEmailChange(row.id, this.d.clock.now()))) throw new TesseraError('invalid_grant', { ...INVALID_LINK, reason: 'email change used or expired' });
    // the unique index decides: an address taken since the request stays its owner's
    if (!(await this.d.lifecycle.setEmail(user.id, row.newEmail))) throw new TesseraError('email_taken', { detail: 'Another account uses this address now.' });
    const now = this.d.clock.now();
    const keepSessionId = viewerId === user.id ? viewerSessionId : undefined;
    // a reset link still in the old mailbox must not take the account back
    await this.d.resets.voidPasswordResets(user.id, now);
    // whoever else is signed in may be why the address changed: only the confirming session stays
    await this.d.sessions.revokeAll(user.id, 'email_changed', keepSessionId);
    await this.d.events.record({ type: 'email_changed', userId: user.id, ip: ctx.ip });
    const mail = emailChangedMail({ oldEmail: user.email, newEmail: row.newEmail, at: now });
    this.d.notices.send(user.email, mail);
    this.d.notices.send(row.newEmail, mail);
  }

  /**
   * Deletion: every session revoked through the feed first (resource servers refuse the tokens within a
   * second), then, in one transaction, the account and everything naming it erased, its events kept without
   * IP or personal fields. The address is free again at once.
   */
  async deleteAccount(user: UserRow, by: Actor): Promise<void> {
    await this.d.sessions.revokeAll(user.id, 'account_deleted');
    await this.d.events.record({ type: 'account_deleted', userId: user.id, ...(by.adminId ? { data: { by_admin: by.adminId } } : {}) });
    if (!(await this.d.lifecycle.eraseUser(user.id, PERSONAL_EVENT_FIELDS))) throw new TesseraError('not_found');
    await this.d.clearCounters(user.email).catch(() => undefined);
    this.d.notices.send(user.email, accountDeletedMail({ at: this.d.clock.now(), byAdmin: by.adminId !== undefined }));
  }
}
