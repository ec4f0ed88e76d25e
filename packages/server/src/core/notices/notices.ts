import type { Clock } from '../../lib/clock.js';
import type { Mailer } from '../../mail/types.js';
import type { NewEvent, UserStore } from '../../store/ports/index.js';
import { NOTICE_EVENTS, securityNoticeMail, type NoticeEvent, type RenderedMail } from './templates.js';

export interface NoticeDeps {
  users: Pick<UserStore, 'getUserById'>;
  mailer: Mailer;
  clock: Clock;
  issuer: string;
  onMailError: (err: unknown) => void;
}

/**
 * Security notices by mail. The changes the timeline records (password, factors, recovery codes) are mailed
 * from the event itself, so no code path that records one can forget its notice and the mail says what the
 * timeline says; email changes and deletion, whose addresses are changing or gone, are sent by their service.
 * Mail never delays or fails the request; failures are logged.
 */
export class SecurityNotices {
  readonly #pending = new Set<Promise<void>>();

  constructor(private readonly d: NoticeDeps) {}

  /** an EventLog listener */
  readonly onEvent = (ev: NewEvent): void => {
    if (!NOTICE_EVENTS.has(ev.type) || ev.userId === null) return;
    this.#track(this.eventNotice(ev.userId, ev.type as NoticeEvent, ev.data, ev.createdAt));
  };

  send(to: string, mail: RenderedMail): void {
    this.#track(this.d.mailer.send({ to, ...mail }));
  }

  /** waits for the mails on their way (shutdown: a notice is not lost to a stopping node) */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
  }

  #track(sending: Promise<void>): void {
    const p = sending.catch(this.d.onMailError).finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }

  private async eventNotice(userId: string, type: NoticeEvent, data: Record<string, unknown>, at: number): Promise<void> {
    const user = await this.d.users.getUserById(userId);
    if (!user) return;
    const mail = securityNoticeMail({ type, data, at, activityLink: `${this.d.issuer}/account/events`, resetLink: `${this.d.issuer}/forgot-password` });
    await this.d.mailer.send({ to: user.email, ...mail });
  }
}
