/**
 * Back-Channel Logout 1.0: every revocation of a session an OAuth client holds (user sign-out, admin, risk,
 * refresh reuse, deletion — whatever the reason) sends that client a signed `logout+jwt`. The dispatcher
 * follows the durable revocation feed from a cursor shared by every node (a pub/sub message only wakes it
 * sooner), enqueues one delivery per session and client (a unique key, so racing nodes enqueue once), and
 * delivers with exponential backoff; each attempt is claimed with a guarded UPDATE, so one node sends it.
 */
import { randomId } from '../crypto.js';
import type { OAuthStore } from '../../store/ports/oauth.js';
import type { RevocationFeed } from '../revocations.js';
import type { Clock } from '../../lib/clock.js';
import type { OAuthJwts } from './jwt.js';

export interface BackchannelOptions {
  /** delivery attempts before giving up (default 8: about 4 minutes of backoff) */
  maxAttempts?: number;
  /** first retry delay, doubled each time (default 1 s) */
  baseDelayMs?: number;
  /** per-request timeout (default 5 s) */
  timeoutMs?: number;
  onError?: (err: unknown) => void;
}

export class BackchannelLogout {
  #running: Promise<void> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #maxAttempts: number;
  readonly #baseDelayMs: number;
  readonly #timeoutMs: number;
  readonly #onError: (err: unknown) => void;

  constructor(
    private readonly oauth: OAuthStore,
    private readonly feed: RevocationFeed,
    private readonly jwts: OAuthJwts,
    private readonly clock: Clock,
    opts: BackchannelOptions = {},
  ) {
    this.#maxAttempts = opts.maxAttempts ?? 8;
    this.#baseDelayMs = opts.baseDelayMs ?? 1000;
    this.#timeoutMs = opts.timeoutMs ?? 5000;
    this.#onError = opts.onError ?? (() => undefined);
  }

  start(pollMs = 1000): void {
    this.#timer ??= setInterval(() => this.wake(), pollMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** Run a pass now (or right after the one in flight). */
  wake(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.pass()
      .catch(this.#onError)
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.wake();
        }
      });
  }

  /** Enqueue what the feed revoked since the shared cursor, then deliver what is due. */
  async pass(): Promise<void> {
    await this.follow();
    await this.deliver();
  }

  private async follow(): Promise<void> {
    const from = await this.oauth.getFeedCursor();
    // A fresh database starts at the feed's head: earlier revocations predate any OAuth session.
    const page = await this.feed.since(from ?? 0, 500);
    if (from === undefined) {
      await this.oauth.advanceFeedCursor(undefined, page.cursor);
      if (page.items.length === 0) return;
    }
    for (const item of page.items) {
      if (item.sid !== undefined) await this.enqueueSession(item.sid);
      if (item.sub !== undefined) for (const s of await this.oauth.listOAuthSessionsOfUser(item.sub)) await this.enqueueSession(s.sessionId);
    }
    if (page.cursor !== from) await this.oauth.advanceFeedCursor(from, page.cursor);
  }

  private async enqueueSession(sessionId: string): Promise<void> {
    const held = await this.oauth.getOAuthSession(sessionId);
    if (!held) return;
    const client = await this.oauth.getOAuthClient(held.clientId);
    if (!client?.backchannelLogoutUri) return;
    const now = this.clock.now();
    await this.oauth.enqueueLogout({ id: randomId(), clientId: client.id, sessionId, userId: held.userId, uri: client.backchannelLogoutUri, attempts: 0, nextAttemptAt: now, deliveredAt: null, failedAt: null, createdAt: now });
  }

  private async deliver(): Promise<void> {
    const now = this.clock.now();
    for (const d of await this.oauth.dueLogouts(now, 50)) {
      // The lease: if this node dies mid-request the delivery becomes due again after the timeout.
      if (!(await this.oauth.claimLogout(d.id, d.attempts, d.nextAttemptAt, now + this.#timeoutMs * 2))) continue;
      const ok = await this.send(d.uri, await this.jwts.logoutToken({ sub: d.userId, sid: d.sessionId, clientId: d.clientId }));
      const attempts = d.attempts + 1;
      if (ok) await this.oauth.finishLogout(d.id, { deliveredAt: this.clock.now() });
      else if (attempts >= this.#maxAttempts) await this.oauth.finishLogout(d.id, { failedAt: this.clock.now() });
      else await this.oauth.finishLogout(d.id, { nextAttemptAt: this.clock.now() + this.#baseDelayMs * 2 ** (attempts - 1) });
    }
  }

  /** §2.8: a 200 (or 204) means the RP logged the session out; anything else is retried. No redirects followed. */
  private async send(uri: string, token: string): Promise<boolean> {
    try {
      const res = await fetch(uri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'cache-control': 'no-store' },
        body: new URLSearchParams({ logout_token: token }).toString(),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      await res.body?.cancel();
      return res.status === 200 || res.status === 204;
    } catch {
      return false;
    }
  }
}
