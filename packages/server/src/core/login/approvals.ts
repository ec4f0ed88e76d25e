import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Clock } from '../../lib/clock.js';
import type { SharedState } from '../../state/types.js';
import type { ChallengeStore, UserRow, UserStore } from '../../store/ports/index.js';
import { newOpaqueToken, parseOpaqueToken, safeEqual, sha256 } from '../crypto.js';
import { TesseraError } from '../errors.js';
import type { EventLog } from '../events.js';
import type { Mailer } from '../../mail/types.js';
import { loginApprovalMail } from '../notices/templates.js';
import type { RequestContext } from '../sessions/types.js';
import type { AttemptGuard } from './hooks.js';

/** how long an approval link works */
export const APPROVAL_TTL_MS = 15 * 60_000;
/** approval mails per account per hour: whoever holds the password cannot flood the owner's mailbox */
const APPROVAL_MAILS_PER_HOUR = 5;

export interface LoginApprovalDeps {
  challenges: Pick<ChallengeStore, 'insertMfaChallenge' | 'getMfaChallenge' | 'consumeMfaChallenge'>;
  users: Pick<UserStore, 'getUserById'>;
  guard: Pick<AttemptGuard, 'approve'>;
  state: Pick<SharedState, 'limiter'>;
  events: EventLog;
  mailer: Mailer;
  clock: Clock;
}

const refused = (reason: string) => new TesseraError('invalid_grant', { detail: 'The approval link is invalid, used or expired.', reason });

/**
 * The owner's way past the per-account daily failure cap when the account has no second factor: a correct
 * password from a new address mails a single-use link (`id.secret`, only SHA-256(secret) stored, in the
 * challenge table as kind `login_approval`); following it makes that address one the account signs in from.
 * An attacker who trips the cap cannot lock the owner out, and one who knows the password still needs the
 * owner's mailbox.
 */
export class LoginApprovals {
  private readonly mails: RateLimiterAbstract;

  constructor(
    private readonly d: LoginApprovalDeps,
    private readonly cfg: { issuer: string },
  ) {
    this.mails = d.state.limiter({ keyPrefix: 'login:approvalmail', points: APPROVAL_MAILS_PER_HOUR, durationSec: 3600 });
  }

  /** Mails the owner a link that approves `ctx.ip`; past the hourly mail budget nothing is sent. */
  async request(user: UserRow, ctx: RequestContext): Promise<void> {
    const budget = await this.mails.consume(user.id).then(
      () => true,
      (err: unknown) => (err instanceof Error ? Promise.reject(err) : false),
    );
    if (!budget) return;
    const token = newOpaqueToken();
    const now = this.d.clock.now();
    await this.d.challenges.insertMfaChallenge({
      id: token.id,
      userId: user.id,
      secretHash: token.hash,
      kind: 'login_approval',
      challenge: null,
      failures: 0,
      createdAt: now,
      expiresAt: now + APPROVAL_TTL_MS,
      usedAt: null,
      context: { ip: ctx.ip, user_agent: ctx.userAgent },
    });
    await this.d.events.record({ type: 'login_approval_requested', userId: user.id, ip: ctx.ip });
    const link = `${this.cfg.issuer}/approve-sign-in?token=${encodeURIComponent(token.value)}`;
    const mail = loginApprovalMail({ link, expiresInMinutes: APPROVAL_TTL_MS / 60_000, ip: ctx.ip, device: ctx.userAgent, at: now });
    await this.d.mailer.send({ to: user.email, ...mail });
  }

  /** `POST /v1/login/approve`: consumes the link once and lets its address past the cap. */
  async approve(value: string, ctx: Pick<RequestContext, 'ip'>): Promise<void> {
    const parsed = parseOpaqueToken(value);
    const row = parsed ? await this.d.challenges.getMfaChallenge(parsed.id) : undefined;
    // other challenge rows (mfa_tokens, WebAuthn ceremonies) share the table: only approval rows count
    if (!parsed || !row || row.kind !== 'login_approval' || !row.userId || !safeEqual(row.secretHash, sha256(parsed.secret))) {
      throw refused('unknown approval token');
    }
    const user = await this.d.users.getUserById(row.userId);
    const ip = row.context.ip;
    if (!user || typeof ip !== 'string') throw refused('approval of a gone user');
    // single use: of two racing clicks only one approves
    if (!(await this.d.challenges.consumeMfaChallenge(row.id, this.d.clock.now()))) throw refused('approval used or expired');
    await this.d.guard.approve({ ip, account: user.email });
    await this.d.events.record({ type: 'login_approved', userId: user.id, ip: ctx.ip, data: { approved_ip: ip } });
  }
}
