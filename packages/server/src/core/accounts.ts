import type { Clock } from '../lib/clock.js';
import { parseOpaqueToken, randomId, safeEqual, sha256 } from './crypto.js';
import { TesseraError } from './errors.js';
import type { EventLog } from './events.js';
import type { LoginApprovals } from './login/approvals.js';
import type { LoginCompletion } from './login/complete.js';
import { issueResetLink } from './login/reset-links.js';
import type { AttemptGuard, LoginCheck, SecondFactor } from './login/hooks.js';
import type { Mailer } from '../mail/types.js';
import { passwordResetMail, setPasswordMail } from './notices/templates.js';
import { checkPasswordPolicy, normalizeEmail, normalizeNewEmail, type PasswordHasher } from './passwords.js';
import type { IssuedTokens, RequestContext, SessionService, Transport } from './sessions.js';
import type { ResetStore, UserRow, UserStore } from '../store/ports/index.js';
import type { AccountReclaim } from './reclaim.js';
import { newUserRow } from './new-user.js';
import type { EmailVerification } from './verification.js';

export type { AttemptGuard, LoginCheck, SecondFactor } from './login/hooks.js';

/** how long the set-password link of an account an admin created works */
const INVITE_TTL_SEC = 24 * 3600;

export type LoginResult =
  | { kind: 'tokens'; tokens: IssuedTokens; user: UserRow }
  | { kind: 'mfa'; mfaToken: string; methods: string[] };

export interface AccountConfig {
  passwordMinLength: number;
  issuer: string;
  resetTtlSec: number;
  /** TESSERA_REQUIRE_VERIFIED_EMAIL: an unverified (non-legacy) account's correct password answers 403 */
  requireVerifiedEmail: boolean;
}

/** Everything an account service needs; the security hooks are required, so none can be forgotten. */
export interface AccountDeps {
  users: UserStore;
  resets: ResetStore;
  hasher: PasswordHasher;
  events: EventLog;
  mailer: Mailer;
  clock: Clock;
  sessions: Pick<SessionService, 'revokeAll'>;
  /** counts every attempt and refuses brute force and credential stuffing */
  guard: AttemptGuard;
  /** the risk engine's verdict on a verified password, before any session */
  loginCheck: LoginCheck;
  /** enrolled second factors are required after the password */
  secondFactor: SecondFactor;
  completion: LoginCompletion;
  /** the owner's approval by mail, for a correct password past the daily failure cap without a factor */
  approvals: Pick<LoginApprovals, 'request'>;
  /** mails a new verification link (rate-limited per account) to an unverified account that tries to sign in */
  verification: Pick<EmailVerification, 'send'>;
  /** removes every factor of an account a reset reclaims (core/reclaim.ts) */
  reclaim: Pick<AccountReclaim, 'reclaim'>;
  /** runs mail work after the response is sent */
  defer: (work: () => Promise<void>) => void;
}

export class AccountService {
  constructor(
    private readonly d: AccountDeps,
    private readonly cfg: AccountConfig,
  ) {}

  /** An admin's "user" filter: an account id, or an email in any of its spellings. */
  async findUser(ref: string): Promise<UserRow | undefined> {
    return ref.includes('@') ? this.d.users.getUserByEmail(normalizeEmail(ref)) : this.d.users.getUserById(ref.trim());
  }

  /**
   * An account the operator vouches for (`tessera users create`, the admin API): created verified. People
   * signing up themselves go through core/signup.ts, which proves the mailbox first.
   */
  async register(input: { email: string; password: string; isAdmin?: boolean }, ctx?: Pick<RequestContext, 'ip'>): Promise<UserRow> {
    const email = normalizeNewEmail(input.email);
    checkPasswordPolicy(input.password, this.cfg.passwordMinLength, { email });
    const now = this.d.clock.now();
    const user = newUserRow({ email, passwordHash: await this.d.hasher.hash(input.password), isAdmin: input.isAdmin ?? false, verifiedAt: now }, now);
    if (!(await this.d.users.createUser(user))) throw new TesseraError('email_taken');
    await this.d.events.record({ type: 'account_created', userId: user.id, ip: ctx?.ip ?? null });
    return user;
  }

  /**
   * Admin: an account whose owner chooses the password through a mailed set-password link (the reset link,
   * valid a day); until then its password is a random one nobody knows.
   */
  async createInvited(emailInput: string, isAdmin: boolean, ctx: Pick<RequestContext, 'ip'>, byAdmin: string): Promise<UserRow> {
    const email = normalizeNewEmail(emailInput);
    // unverified until the owner follows the set-password link (a reset, which proves the mailbox)
    const user = newUserRow({ email, passwordHash: await this.d.hasher.hash(`${randomId()}${randomId()}`), isAdmin, verifiedAt: null }, this.d.clock.now());
    if (!(await this.d.users.createUser(user))) throw new TesseraError('email_taken');
    await this.d.events.record({ type: 'account_created', userId: user.id, ip: ctx.ip, data: { by_admin: byAdmin } });
    const link = await issueResetLink({ resets: this.d.resets, clock: this.d.clock, issuer: this.cfg.issuer }, user.id, INVITE_TTL_SEC);
    await this.d.mailer.send({ to: user.email, ...setPasswordMail({ link, expiresInHours: INVITE_TTL_SEC / 3600 }) });
    return user;
  }

  /**
   * Password sign-in. Unknown email and wrong password take the same path, the same time (a dummy argon2
   * verification) and the same error, so neither body nor timing enumerates accounts. A reset-required
   * account is told so only after a correct password.
   */
  async login(input: { email: string; password: string; ctx: RequestContext; transport: Transport }): Promise<LoginResult> {
    const key = { ip: input.ctx.ip, account: normalizeEmail(input.email) };
    // brute force and credential stuffing: the attempt is counted before the password is checked
    const { capped } = await this.d.guard.admit(key);
    // account enumeration: unknown email and wrong password look the same
    const user = await this.verifyPassword(key, input.password, input.ctx, capped);
    this.requireVerified(user);
    if (capped) return this.pastDailyCap(user, input.ctx, input.transport);
    await this.d.guard.recordSuccess(key);
    await this.upgradeHash(user, input.password);
    // a password the risk engine has seen stolen: it alone no longer signs in
    if (user.passwordResetRequired) throw new TesseraError('password_reset_required');
    // an account an administrator disabled: told only after the correct password, so it enumerates nothing
    if (user.disabledAt !== null) throw new TesseraError('account_disabled');
    // a correct password from an impossible place or a new device (risk engine)
    await this.d.loginCheck(user, input.ctx);
    // a stolen password alone: enrolled second factors are required
    const methods = await this.d.secondFactor.methods(user);
    if (methods.length > 0) {
      const mfaToken = await this.d.secondFactor.challenge(user, input.ctx, input.transport);
      return { kind: 'mfa', mfaToken, methods };
    }
    const tokens = await this.d.completion.complete(user, ['pwd'], input.ctx, input.transport);
    return { kind: 'tokens', tokens, user };
  }

  /**
   * Lockout as denial of service: once an attacker has tripped the account's daily failure cap, the right
   * password from a new address neither signs in (it may come from a stuffing list) nor is refused (it may
   * be the owner). It gets the account's second factor, or, without one, 403 `approval_required` and a
   * single-use approval link mailed to the owner. The address is not marked known until one of them passes.
   */
  private async pastDailyCap(user: UserRow, ctx: RequestContext, transport: Transport): Promise<LoginResult> {
    if (user.passwordResetRequired) throw new TesseraError('password_reset_required');
    if (user.disabledAt !== null) throw new TesseraError('account_disabled');
    await this.d.loginCheck(user, ctx);
    const methods = await this.d.secondFactor.methods(user);
    if (methods.length > 0) return { kind: 'mfa', mfaToken: await this.d.secondFactor.challenge(user, ctx, transport), methods };
    await this.d.approvals.request(user, ctx);
    throw new TesseraError('approval_required', { reason: 'daily failure cap: approval mailed to the owner' });
  }

  /**
   * Squatting: an address nobody has proven to own must not sign in (told only after the correct password,
   * so the answer enumerates nothing a wrong one would not). A new link goes out, within its hourly budget.
   * Accounts from before verification existed are grandfathered; a reset reclaims them instead.
   */
  private requireVerified(user: UserRow): void {
    if (!this.cfg.requireVerifiedEmail || user.emailVerifiedAt !== null || user.legacy) return;
    this.d.defer(async () => void (await this.d.verification.send(user)));
    throw new TesseraError('email_unverified', { reason: 'correct password, email not verified' });
  }

  /** A wrong password past the daily cap is refused with the cap's 429, as before the password was checked. */
  private async verifyPassword(key: { ip: string; account: string }, password: string, ctx: RequestContext, capped: Error | null): Promise<UserRow> {
    const user = await this.d.users.getUserByEmail(key.account).catch(async (err: unknown) => {
      // the database is down: this attempt was never a guess, so it must not spend the user's login budget
      await this.d.guard.refund(key).catch(() => undefined);
      throw err;
    });
    const ok = user ? await this.d.hasher.verify(user.passwordHash, password) : await this.d.hasher.verifyDummy(password);
    if (user && ok) return user;
    await this.d.guard.recordFailure(key);
    await this.d.events.record({ type: 'login_failed', userId: user?.id ?? null, ip: ctx.ip, data: { reason: user ? 'wrong_password' : 'unknown_email' } });
    throw capped ?? new TesseraError('invalid_credentials');
  }

  private async upgradeHash(user: UserRow, password: string): Promise<void> {
    if (this.d.hasher.needsRehash(user.passwordHash)) await this.d.users.setPasswordHash(user.id, await this.d.hasher.hash(password));
  }

  /** An account by id, for the request's authentication and the admin API. */
  getUser(id: string): Promise<UserRow | undefined> {
    return this.d.users.getUserById(id);
  }

  /** Admin action: every session ends and the next sign-in must first reset the password. */
  async requirePasswordReset(userId: string): Promise<void> {
    await this.d.users.setPasswordResetRequired(userId, true);
    await this.d.sessions.revokeAll(userId, 'password_reset_required');
  }

  async changePassword(user: UserRow, sessionId: string, current: string, next: string, ctx: RequestContext): Promise<void> {
    const key = { ip: ctx.ip, account: user.email };
    // guessing the current password with a stolen session: counted and backed off like login attempts
    await this.d.guard.checkChange(user.id, key);
    if (!(await this.d.hasher.verify(user.passwordHash, current))) {
      await this.d.guard.recordFailure(key);
      await this.d.events.record({ type: 'password_change_failed', userId: user.id, sessionId, ip: ctx.ip });
      throw new TesseraError('invalid_credentials', { reason: 'wrong current password on change' });
    }
    await this.d.guard.recordSuccess(key);
    checkPasswordPolicy(next, this.cfg.passwordMinLength, { email: user.email });
    await this.d.users.setPasswordHash(user.id, await this.d.hasher.hash(next));
    // a reset link mailed before the change (perhaps to an attacker reading the mailbox) dies with the old password
    await this.d.resets.voidPasswordResets(user.id, this.d.clock.now());
    // Whoever else holds a session may be the reason for the change: sign them all out.
    await this.d.sessions.revokeAll(user.id, 'password_changed', sessionId);
    await this.d.events.record({ type: 'password_changed', userId: user.id, sessionId, ip: ctx.ip });
  }

  /**
   * Starts a reset. The caller answers 202 before this runs (see http/routes/password.ts), so response time
   * is the same whether or not the account exists; the work happens after the response.
   */
  async forgotPassword(emailInput: string, ctx: Pick<RequestContext, 'ip'>): Promise<void> {
    const user = await this.d.users.getUserByEmail(normalizeEmail(emailInput));
    if (!user) return;
    const link = await issueResetLink({ resets: this.d.resets, clock: this.d.clock, issuer: this.cfg.issuer }, user.id, this.cfg.resetTtlSec);
    await this.d.events.record({ type: 'password_reset_requested', userId: user.id, ip: ctx.ip });
    await this.d.mailer.send({ to: user.email, ...passwordResetMail({ link, expiresInMinutes: Math.round(this.cfg.resetTtlSec / 60) }) });
  }

  async resetPassword(tokenValue: string, newPassword: string, ctx: Pick<RequestContext, 'ip'>): Promise<void> {
    const parsed = parseOpaqueToken(tokenValue);
    const row = parsed ? await this.d.resets.getPasswordReset(parsed.id) : undefined;
    if (!parsed || !row || !safeEqual(row.secretHash, sha256(parsed.secret))) {
      throw new TesseraError('invalid_grant', { detail: 'The reset link is invalid or has expired.', reason: 'unknown reset token' });
    }
    const user = await this.d.users.getUserById(row.userId);
    if (!user) throw new TesseraError('invalid_grant', { detail: 'The reset link is invalid or has expired.' });
    // Check the policy before consuming, so a rejected password does not burn the link.
    checkPasswordPolicy(newPassword, this.cfg.passwordMinLength, { email: user.email });
    const consumed = await this.d.resets.consumePasswordReset(row.id, this.d.clock.now());
    if (!consumed) throw new TesseraError('invalid_grant', { detail: 'The reset link is invalid or has expired.', reason: 'reset token used or expired' });
    await this.d.users.setPasswordHash(user.id, await this.d.hasher.hash(newPassword));
    // sibling links: another link of the same user, mailed earlier, must not reset the new password again
    await this.d.resets.voidPasswordResets(user.id, this.d.clock.now());
    await this.d.users.setPasswordResetRequired(user.id, false);
    // The reset proves the mailbox, so the address is now verified. If it never was, whoever set the account
    // up (a squatter who registered the address first) may not be its owner: their factors go, before the
    // sessions, so none of them can sign in again in between.
    if (await this.d.users.markEmailVerified(user.id, this.d.clock.now())) await this.d.reclaim.reclaim(user, ctx);
    // the failure counters an attacker ran up no longer hold the owner back
    await this.d.guard.clear(user.email);
    await this.d.secondFactor.unlockFactors(user.id);
    await this.d.sessions.revokeAll(user.id, 'password_reset');
    await this.d.events.record({ type: 'password_reset_completed', userId: user.id, ip: ctx.ip });
  }
}

