import type { Mailer } from '../mail/types.js';
import type { UserRow } from '../store/ports/index.js';
import type { EventLog } from './events.js';
import type { MfaManager } from './mfa/manage.js';
import { accountReclaimedMail } from './notices/verification.js';

export interface AccountReclaimDeps {
  factors: Pick<MfaManager, 'removeAll'>;
  events: EventLog;
  mailer: Mailer;
  /** a notice that could not be sent; the reclaim stands regardless */
  onMailError: (err: unknown) => void;
}

/**
 * An account whose email had never been verified, reset by the mailbox's owner: everything set up on it
 * before (perhaps by a squatter who registered the address first) is removed — TOTP, passkeys, phone and
 * recovery codes; the caller revokes the sessions. Event `account_reclaimed`, and a mail saying what went
 * (both only when there was something to remove).
 */
export class AccountReclaim {
  constructor(
    private readonly d: AccountReclaimDeps,
    private readonly cfg: { issuer: string },
  ) {}

  async reclaim(user: UserRow, ctx: { ip: string }): Promise<void> {
    const removed = await this.d.factors.removeAll(user.id);
    // nothing was set up (an invited account's first password, a sign-up whose link was never followed): the
    // reset alone verified the address, and there is nothing to report
    if (removed.length === 0) return;
    await this.d.events.record({ type: 'account_reclaimed', userId: user.id, ip: ctx.ip, data: { removed } });
    const mail = accountReclaimedMail({ removed: removed.map(describe), signInLink: `${this.cfg.issuer}/sign-in` });
    await this.d.mailer.send({ to: user.email, ...mail }).catch(this.d.onMailError);
  }
}

const WORDS: Record<string, string> = {
  totp: 'the authenticator app',
  passkey: 'a passkey',
  sms: 'the phone for codes by SMS',
  recovery_codes: 'the recovery codes',
};

const describe = (what: string): string => WORDS[what] ?? what;
