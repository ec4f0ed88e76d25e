import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Clock } from '../lib/clock.js';
import type { Mailer } from '../mail/types.js';
import type { SharedState } from '../state/types.js';
import type { UserRow, UserStore, VerificationStore } from '../store/ports/index.js';
import { newOpaqueToken, parseOpaqueToken, safeEqual, sha256 } from './crypto.js';
import { TesseraError } from './errors.js';
import type { EventLog } from './events.js';
import { verifyEmailMail } from './notices/verification.js';
import { normalizeEmail } from './passwords.js';

/** how long a verification link works */
export const VERIFICATION_TTL_MS = 24 * 3_600_000;
/** verification mails per account per hour, whoever asks (sign-up, resend, sign-in attempts): no mail bombing */
export const VERIFICATION_MAILS_PER_HOUR = 3;

export interface EmailVerificationDeps {
  users: Pick<UserStore, 'getUserById' | 'getUserByEmail' | 'markEmailVerified'>;
  verifications: VerificationStore;
  state: Pick<SharedState, 'limiter'>;
  events: EventLog;
  mailer: Mailer;
  clock: Clock;
}

const refused = (reason: string) => new TesseraError('invalid_grant', { detail: 'The confirmation link is invalid, used or expired.', reason });

/**
 * Proof that the owner of an account reads its mailbox: a single-use link (`id.secret`, only SHA-256 of the
 * secret stored, as reset links) mailed to the address, valid 24 hours. Mails to one account are capped per
 * hour, however they are asked for, so nobody can use Tessera to flood an inbox.
 */
export class EmailVerification {
  private readonly mails: RateLimiterAbstract;

  constructor(
    private readonly d: EmailVerificationDeps,
    private readonly cfg: { issuer: string },
  ) {
    this.mails = d.state.limiter({ keyPrefix: 'verify:mail', points: VERIFICATION_MAILS_PER_HOUR, durationSec: 3600 });
  }

  /** Mails a new link to an unverified account, within the account's hourly mail budget (else nothing). */
  async send(user: UserRow): Promise<boolean> {
    if (user.emailVerifiedAt !== null) return false;
    const budget = await this.mails.consume(user.id).then(
      () => true,
      (err: unknown) => (err instanceof Error ? Promise.reject(err) : false),
    );
    if (!budget) return false;
    const token = newOpaqueToken();
    const now = this.d.clock.now();
    await this.d.verifications.insertEmailVerification({ id: token.id, userId: user.id, email: user.email, secretHash: token.hash, createdAt: now, expiresAt: now + VERIFICATION_TTL_MS, usedAt: null });
    const link = `${this.cfg.issuer}/verify-email?token=${encodeURIComponent(token.value)}`;
    await this.d.mailer.send({ to: user.email, ...verifyEmailMail({ link, expiresInHours: VERIFICATION_TTL_MS / 3_600_000 }) });
    return true;
  }

  /** `POST /v1/email/verification`: the caller answered 202 already; an unknown or verified address gets nothing. */
  async resend(emailInput: string): Promise<void> {
    const user = await this.d.users.getUserByEmail(normalizeEmail(emailInput));
    if (user) await this.send(user);
  }

  /** `POST /v1/email/verify`: consumes the link once and marks the address verified. */
  async verify(value: string, ctx: { ip: string }): Promise<void> {
    const parsed = parseOpaqueToken(value);
    const row = parsed ? await this.d.verifications.getEmailVerification(parsed.id) : undefined;
    if (!parsed || !row || !safeEqual(row.secretHash, sha256(parsed.secret))) throw refused('unknown verification token');
    // consume once: a link clicked twice, or replayed from a forwarded mail, verifies at most once
    const consumed = await this.d.verifications.consumeEmailVerification(row.id, this.d.clock.now());
    if (!consumed) throw refused('verification token used or expired');
    const user = await this.d.users.getUserById(row.userId);
    // a link to an address the account no longer has proves nothing about the current one
    if (!user || user.email !== row.email) throw refused('verification token for another address');
    if (await this.d.users.markEmailVerified(user.id, this.d.clock.now())) {
      await this.d.events.record({ type: 'email_verified', userId: row.userId, ip: ctx.ip });
    }
  }
}
