import type { Clock } from '../lib/clock.js';
import { newOpaqueToken, parseOpaqueToken, randomId, safeEqual, sha256 } from './crypto.js';
import { TesseraError } from './errors.js';
import type { EventLog } from './events.js';
import { checkPasswordPolicy, normalizeEmail, normalizeNewEmail, type PasswordHasher } from './passwords.js';
import type { IssuedTokens, RequestContext, SessionService } from './sessions.js';
import type { Store, UserRow } from '../store/types.js';
import type { Mailer } from '../mail/types.js';
import { passwordResetMail } from '../mail/templates.js';

/** Brute-force policy hooks (core/limits.ts LoginGuard satisfies this). */
export interface AttemptGuard {
  check(key: { ip: string; account: string }): Promise<void>;
  recordFailure(key: { ip: string; account: string }): Promise<void>;
  recordSuccess(key: { ip: string; account: string }): Promise<void>;
}

/** Decides whether a password-verified user must pass a second factor (core/mfa plugs in here). */
export interface SecondFactor {
  methods(user: UserRow): Promise<string[]>;
  challenge(user: UserRow, ctx: RequestContext, transport: 'bearer' | 'cookie'): Promise<string>;
}

export type LoginResult =
  | { kind: 'tokens'; tokens: IssuedTokens; user: UserRow }
  | { kind: 'mfa'; mfaToken: string; methods: string[] };

export interface AccountConfig {
  passwordMinLength: number;
  issuer: string;
  resetTtlSec: number;
}

export class AccountService {
  guard: AttemptGuard | undefined;
  secondFactor: SecondFactor | undefined;
  /** runs after a successful password or passkey sign-in, before tokens exist (risk engine hook) */
  loginCheck: ((user: UserRow, ctx: RequestContext) => Promise<void>) | undefined;

  constructor(
    private readonly store: Store,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionService,
    private readonly events: EventLog,
    private readonly mailer: Mailer,
    private readonly clock: Clock,
    private readonly cfg: AccountConfig,
  ) {}

  /** An admin's "user" filter: an account id, or an email in any of its spellings. */
  async findUser(ref: string): Promise<UserRow | undefined> {
    return ref.includes('@') ? this.store.getUserByEmail(normalizeEmail(ref)) : this.store.getUserById(ref.trim());
  }

  async register(input: { email: string; password: string; isAdmin?: boolean }, ctx?: Pick<RequestContext, 'ip'>): Promise<UserRow> {
    const email = normalizeNewEmail(input.email);
    checkPasswordPolicy(input.password, this.cfg.passwordMinLength, { email });
    const user: UserRow = {
      id: randomId(),
      email,
      passwordHash: await this.hasher.hash(input.password),
      isAdmin: input.isAdmin ?? false,
      passwordResetRequired: false,
      createdAt: this.clock.now(),
    };
    if (!(await this.store.createUser(user))) throw new TesseraError('email_taken');
    await this.events.record({ type: 'account_created', userId: user.id, ip: ctx?.ip ?? null });
    return user;
  }

  /**
   * Password sign-in. Unknown email and wrong password take the same path, the same time (a dummy argon2
   * verification) and the same error, so neither body nor timing enumerates accounts. A reset-required
   * account is told so only after a correct password.
   */
  async login(input: { email: string; password: string; ctx: RequestContext; transport: 'bearer' | 'cookie' }): Promise<LoginResult> {
    const email = normalizeEmail(input.email);
    const key = { ip: input.ctx.ip, account: email };
    await this.guard?.check(key);
    const user = await this.store.getUserByEmail(email);
    const ok = user ? await this.hasher.verify(user.passwordHash, input.password) : await this.hasher.verifyDummy(input.password);
    if (!user || !ok) {
      await this.guard?.recordFailure(key);
      await this.events.record({ type: 'login_failed', userId: user?.id ?? null, ip: input.ctx.ip, data: { reason: user ? 'wrong_password' : 'unknown_email' } });
      throw new TesseraError('invalid_credentials');
    }
    await this.guard?.recordSuccess(key);
    if (this.hasher.needsRehash(user.passwordHash)) {
      await this.store.setPasswordHash(user.id, await this.hasher.hash(input.password));
    }
    if (user.passwordResetRequired) throw new TesseraError('password_reset_required');
    await this.loginCheck?.(user, input.ctx);

    const methods = (await this.secondFactor?.methods(user)) ?? [];
    if (methods.length > 0 && this.secondFactor) {
      const mfaToken = await this.secondFactor.challenge(user, input.ctx, input.transport);
      return { kind: 'mfa', mfaToken, methods };
    }
    const tokens = await this.completeLogin(user, ['pwd'], input.ctx, input.transport);
    return { kind: 'tokens', tokens, user };
  }

  /** Issue the session once every factor is verified. */
  async completeLogin(user: UserRow, amr: string[], ctx: RequestContext, transport: 'bearer' | 'cookie'): Promise<IssuedTokens> {
    const tokens = await this.sessions.start({ user, amr, authTime: this.clock.now(), ctx, transport });
    await this.events.record({
      type: 'login_succeeded',
      userId: user.id,
      sessionId: tokens.sessionId,
      ip: ctx.ip,
      data: { amr, user_agent: ctx.userAgent, city: ctx.geo?.city ?? null, country: ctx.geo?.country ?? null },
    });
    return tokens;
  }

  async changePassword(user: UserRow, sessionId: string, current: string, next: string, ctx: RequestContext): Promise<void> {
    if (!(await this.hasher.verify(user.passwordHash, current))) {
      throw new TesseraError('invalid_credentials', { reason: 'wrong current password on change' });
    }
    checkPasswordPolicy(next, this.cfg.passwordMinLength, { email: user.email });
    await this.store.setPasswordHash(user.id, await this.hasher.hash(next));
    // Whoever else holds a session may be the reason for the change: sign them all out.
    await this.sessions.revokeAll(user.id, 'password_changed', sessionId);
    await this.events.record({ type: 'password_changed', userId: user.id, sessionId, ip: ctx.ip });
  }

  /**
   * Starts a reset. The caller answers 202 before this runs (see http/routes/password.ts), so response time
   * is the same whether or not the account exists; the work happens after the response.
   */
  async forgotPassword(emailInput: string, ctx: Pick<RequestContext, 'ip'>): Promise<void> {
    const user = await this.store.getUserByEmail(normalizeEmail(emailInput));
    if (!user) return;
    const token = newOpaqueToken();
    const now = this.clock.now();
    await this.store.insertPasswordReset({
      id: token.id,
      userId: user.id,
      secretHash: token.hash,
      createdAt: now,
      expiresAt: now + this.cfg.resetTtlSec * 1000,
      usedAt: null,
    });
    await this.events.record({ type: 'password_reset_requested', userId: user.id, ip: ctx.ip });
    const link = `${this.cfg.issuer}/reset-password?token=${encodeURIComponent(token.value)}`;
    await this.mailer.send({ to: user.email, ...passwordResetMail({ link, expiresInMinutes: Math.round(this.cfg.resetTtlSec / 60) }) });
  }

  async resetPassword(tokenValue: string, newPassword: string, ctx: Pick<RequestContext, 'ip'>): Promise<void> {
    const parsed = parseOpaqueToken(tokenValue);
    const row = parsed ? await this.store.getPasswordReset(parsed.id) : undefined;
    if (!parsed || !row || !safeEqual(row.secretHash, sha256(parsed.secret))) {
      throw new TesseraError('invalid_grant', { detail: 'The reset link is invalid or has expired.', reason: 'unknown reset token' });
    }
    const user = await this.store.getUserById(row.userId);
    if (!user) throw new TesseraError('invalid_grant', { detail: 'The reset link is invalid or has expired.' });
    // Check the policy before consuming, so a rejected password does not burn the link.
    checkPasswordPolicy(newPassword, this.cfg.passwordMinLength, { email: user.email });
    const consumed = await this.store.consumePasswordReset(row.id, this.clock.now());
    if (!consumed) throw new TesseraError('invalid_grant', { detail: 'The reset link is invalid or has expired.', reason: 'reset token used or expired' });
    await this.store.setPasswordHash(user.id, await this.hasher.hash(newPassword));
    await this.store.setPasswordResetRequired(user.id, false);
    await this.sessions.revokeAll(user.id, 'password_reset');
    await this.events.record({ type: 'password_reset_completed', userId: user.id, ip: ctx.ip });
  }
}
