import { clearCsrfCookies, csrfToken } from './csrf.js';
import type { ApiResponse } from './types.js';

/** Rotates the refresh cookie: POST /v1/token with the cookie transport. */
export type RefreshCall = () => Promise<ApiResponse>;

export interface SessionOptions {
  /** the Web Lock and BroadcastChannel names shared by the tabs of one origin */
  lockName?: string;
  channelName?: string;
}

type Message = { type: 'refreshed'; expiresIn: number } | { type: 'signed-out' };

/**
 * Silent refresh of a cookie session, coordinated across tabs.
 *
 * One Web Lock serialises refreshes, and the CSRF cookie (re-issued on every refresh) tells a tab that
 * waited for the lock that another tab already rotated the refresh token: open tabs never present the
 * same refresh token twice, which the server would treat as theft and answer by revoking the session.
 * A BroadcastChannel tells the other tabs the new expiry and about sign-outs.
 */
export class SessionKeeper {
  private lifetimeMs = 0; // full lifetime of the current access token
  private deadline = 0; // local time (ms) when it expires
  private timer: ReturnType<typeof setTimeout> | undefined;
  private knownCsrf = csrfToken();
  private readonly signedOutListeners = new Set<() => void>();
  private readonly channel: BroadcastChannel | null;
  private readonly lockName: string;

  constructor(
    private readonly rotate: RefreshCall,
    options: SessionOptions = {},
  ) {
    this.lockName = options.lockName ?? 'tessera-refresh';
    this.channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(options.channelName ?? 'tessera-session') : null;
    this.channel?.addEventListener('message', (e: MessageEvent<Message | null>) => this.onMessage(e.data));
    // A tab that slept (background throttling, a suspended laptop) catches up as soon as it is visible again.
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && this.deadline > 0 && this.deadline - Date.now() < 5_000) void this.refresh();
    });
  }

  /** Begin silent refresh for a session whose access token has `expiresIn` seconds left. */
  start(expiresIn: number): void {
    this.knownCsrf = csrfToken();
    this.setExpiry(expiresIn);
  }

  /** A new session began in this tab (after sign-in): other tabs pick up its expiry. */
  signedIn(expiresIn: number): void {
    this.start(expiresIn);
    this.post({ type: 'refreshed', expiresIn });
  }

  /** This tab signed out: stop refreshing and tell the other tabs. */
  signedOut(): void {
    clearTimeout(this.timer);
    this.post({ type: 'signed-out' });
  }

  onSignedOut(fn: () => void): () => void {
    this.signedOutListeners.add(fn);
    return () => this.signedOutListeners.delete(fn);
  }

  /** The CSRF value the last look at the session was based on (see refresh). */
  get seen(): string | undefined {
    return this.knownCsrf;
  }

  /**
   * Rotate the refresh cookie now, unless another tab already did since this tab last looked (`seen`: the
   * CSRF cookie value the decision to refresh was based on). Resolves true when the cookies are fresh,
   * false when the session is over (and signed-out listeners were told) or the network failed.
   */
  async refresh(seen: string | undefined = this.knownCsrf): Promise<boolean> {
    const run = () => this.refreshHoldingLock(seen);
    // Web Locks exist in every current browser; without them (an old one) a tab refreshes on its own.
    if (typeof navigator.locks?.request !== 'function') return run();
    return await navigator.locks.request(this.lockName, run);
  }

  private async refreshHoldingLock(seen: string | undefined): Promise<boolean> {
    const now = csrfToken();
    if (now === undefined) return false;
    // Another tab refreshed while we waited for the lock: the cookies in the jar are already new.
    if (now !== seen) {
      this.knownCsrf = now;
      // It just got a full lifetime; its broadcast (usually here already) carries the exact figure.
      this.setExpiry(this.lifetimeMs / 1000 || 30);
      return true;
    }
    let res: ApiResponse;
    try {
      res = await this.rotate();
    } catch {
      this.schedule(5000); // offline: try again shortly, the refresh token is still unused
      return false;
    }
    if (!res.ok) {
      if (res.status === 400 || res.status === 401 || res.status === 403) this.ended();
      return false;
    }
    const expiresIn = expiresInOf(res.body);
    this.knownCsrf = csrfToken();
    this.setExpiry(expiresIn);
    // Posted while still holding the lock, so the next tab in line usually knows before it looks.
    this.post({ type: 'refreshed', expiresIn });
    return true;
  }

  private ended(): void {
    clearTimeout(this.timer);
    clearCsrfCookies();
    for (const fn of this.signedOutListeners) fn();
  }

  private onMessage(msg: Message | null): void {
    if (msg?.type === 'refreshed' && typeof msg.expiresIn === 'number') {
      this.knownCsrf = csrfToken();
      this.setExpiry(msg.expiresIn);
    } else if (msg?.type === 'signed-out') {
      clearTimeout(this.timer);
      for (const fn of this.signedOutListeners) fn();
    }
  }

  private setExpiry(expiresIn: number): void {
    this.lifetimeMs = Math.max(1, Number(expiresIn) || 0) * 1000;
    this.deadline = Date.now() + this.lifetimeMs;
    // Refresh a little before expiry: 20 % of the lifetime, between 5 s and 60 s ahead.
    const lead = Math.min(60_000, Math.max(5_000, this.lifetimeMs * 0.2));
    this.schedule(Math.max(0, this.deadline - Date.now() - lead));
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), delayMs);
  }

  private post(msg: Message): void {
    this.channel?.postMessage(msg);
  }
}

/** `expires_in` of a token response (seconds); 0 when absent, which setExpiry treats as "soon". */
export function expiresInOf(body: unknown): number {
  const v = typeof body === 'object' && body !== null ? (body as { expires_in?: unknown }).expires_in : undefined;
  return typeof v === 'number' ? v : 0;
}
