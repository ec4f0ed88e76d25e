import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Clock } from '../lib/clock.js';
import type { Mailer } from '../mail/types.js';
import type { SharedState } from '../state/types.js';
import type { UserStore } from '../store/ports/index.js';
import type { EventLog } from './events.js';
import { accountExistsMail } from './notices/verification.js';
import { checkPasswordPolicy, normalizeEmail, normalizeNewEmail, type PasswordHasher } from './passwords.js';
import { newUserRow } from './new-user.js';
import type { EmailVerification } from './verification.js';

/** "you already have an account" mails per address per hour: repeated sign-ups cannot flood its owner */
const EXISTS_MAILS_PER_HOUR = 3;

export interface SignUpDeps {
  users: Pick<UserStore, 'createUser' | 'getUserByEmail'>;
  hasher: PasswordHasher;
  verification: Pick<EmailVerification, 'send'>;
  state: Pick<SharedState, 'limiter'>;
  events: EventLog;
  mailer: Mailer;
  clock: Clock;
  /** runs mail work after the response is sent, so its duration (SMTP) tells nothing about the address */
  defer: (work: () => Promise<void>) => void;
}

/**
 * `POST /v1/accounts` without account enumeration: a free and a taken address take the same steps (policy,
 * one argon2 hash, one insert) and get the same answer; only the mail differs, and it goes to the mailbox,
 * which only its owner reads. The account is unverified until the link in the mail is followed.
 */
export class SignUp {
  private readonly existsMails: RateLimiterAbstract;

  constructor(
    private readonly d: SignUpDeps,
    private readonly cfg: { passwordMinLength: number; issuer: string },
  ) {
    this.existsMails = d.state.limiter({ keyPrefix: 'signup:exists', points: EXISTS_MAILS_PER_HOUR, durationSec: 3600 });
  }

  async signUp(input: { email: string; password: string }, ctx: { ip: string }): Promise<void> {
    const email = normalizeNewEmail(input.email);
    checkPasswordPolicy(input.password, this.cfg.passwordMinLength, { email });
    // hashed whether or not the address is taken, so the answer takes the same time
    const user = newUserRow({ email, passwordHash: await this.d.hasher.hash(input.password), verifiedAt: null }, this.d.clock.now());
    if (await this.d.users.createUser(user)) {
      // the event too is written after the answer: a taken address writes nothing before it either
      this.d.defer(async () => {
        await this.d.events.record({ type: 'account_created', userId: user.id, ip: ctx.ip });
        await this.d.verification.send(user);
      });
      return;
    }
    this.d.defer(() => this.tellOwner(email, ctx.ip));
  }

  /** the address has an account: its owner learns of the attempt, with the way back in */
  private async tellOwner(email: string, ip: string): Promise<void> {
    const owner = await this.d.users.getUserByEmail(normalizeEmail(email));
    if (!owner) return;
    await this.d.events.record({ type: 'sign_up_existing', userId: owner.id, ip });
    const budget = await this.existsMails.consume(owner.id).then(
      () => true,
      (err: unknown) => (err instanceof Error ? Promise.reject(err) : false),
    );
    if (!budget) return;
    const mail = accountExistsMail({ signInLink: `${this.cfg.issuer}/sign-in`, resetLink: `${this.cfg.issuer}/forgot-password` });
    await this.d.mailer.send({ to: owner.email, ...mail });
  }
}
