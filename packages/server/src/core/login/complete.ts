import type { Clock } from '../../lib/clock.js';
import { TesseraError } from '../errors.js';
import type { EventLog } from '../events.js';
import type { SessionService } from '../sessions.js';
import type { IssuedTokens, RequestContext, Transport } from '../sessions/types.js';
import type { UserRow } from '../../store/ports/index.js';

/**
 * The last step of every sign-in (password, password + second factor, passkey): start the session and
 * record the success. Its own module, so the password and the second-factor steps share it without
 * depending on each other.
 */
export class LoginCompletion {
  constructor(
    private readonly sessions: Pick<SessionService, 'start'>,
    private readonly events: EventLog,
    private readonly clock: Clock,
  ) {}

  /** Issue the session once every factor is verified; `method` names the second step for the timeline. */
  async complete(user: UserRow, amr: string[], ctx: RequestContext, transport: Transport, method?: string): Promise<IssuedTokens> {
    // every way in ends here: a disabled account gets no session, whichever factor it passed
    if (user.disabledAt !== null) throw new TesseraError('account_disabled');
    const tokens = await this.sessions.start({ user, amr, authTime: this.clock.now(), ctx, transport });
    await this.events.record({
      type: 'login_succeeded',
      userId: user.id,
      sessionId: tokens.sessionId,
      ip: ctx.ip,
      data: { amr, ...(method ? { method } : {}), user_agent: ctx.userAgent, city: ctx.geo?.city ?? null, country: ctx.geo?.country ?? null },
    });
    return tokens;
  }
}
