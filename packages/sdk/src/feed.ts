import { SseParser } from './sse.js';
import type { SseEvent } from './sse.js';

export interface RevocationFeedOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  mode: 'sse' | 'poll';
  fetch: typeof fetch;
  now: () => number;
  maxStalenessMs: number;
  onItem: (item: unknown) => void;
  onError?: (err: Error) => void;
  pollIntervalMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  requestTimeoutMs?: number;
  /**
   * How long the feed may stay behind the head a heartbeat announced before it counts as stale, ms (default
   * 2000, at most `maxStalenessMs`): a revocation the stream failed to deliver is caught up within it.
   */
  catchUpTimeoutMs?: number;
}

function parseCursor(c: unknown): number | undefined {
  const n = typeof c === 'number' ? c : typeof c === 'string' && /^\d{1,15}$/.test(c) ? Number(c) : NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Follows the issuer's revocation feed: an SSE stream (pushed within milliseconds), with a cursor catch-up
 * through `GET /v1/revocations?since=` after every (re)connect so nothing revoked while we were away is
 * missed; or plain polling. Freshness is tracked so the verifier can fail closed when the feed goes silent.
 */
export class RevocationFeed {
  readonly #o: Required<Omit<RevocationFeedOptions, 'onError'>> & Pick<RevocationFeedOptions, 'onError'>;
  readonly #base: string;
  readonly #authorization: string;
  #cursor = 0;
  #lastActivityAt: number | undefined;
  #started = false;
  #closed = false;
  #loop: Promise<void> | undefined;
  #stream: AbortController | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #sleep: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  #waiters: Waiter[] = [];
  #synced = false;
  #connected = false;
  #connects = 0;
  #events = 0;
  /** the head cursor the latest heartbeat announced, while we are behind it, and since when */
  #behind: { head: number; since: number } | undefined;
  #catchingUp: Promise<void> | undefined;

  constructor(opts: RevocationFeedOptions) {
    const poll = opts.pollIntervalMs ?? Math.max(1000, Math.floor(opts.maxStalenessMs / 3));
    // Retries stay well inside the staleness window, so an issuer restart costs seconds of 503, not minutes.
    const maxBackoff = Math.min(10_000, Math.max(1000, Math.floor(opts.maxStalenessMs / 4)));
    const catchUp = Math.min(opts.maxStalenessMs, 2000);
    this.#o = { pollIntervalMs: poll, minBackoffMs: 250, maxBackoffMs: maxBackoff, requestTimeoutMs: 10_000, catchUpTimeoutMs: catchUp, ...opts };
    this.#base = opts.issuer.replace(/\/+$/, '');
    // RFC 6749 §2.3.1: the id and secret are form-encoded before Basic encoding.
    const basic = `${encodeURIComponent(opts.clientId)}:${encodeURIComponent(opts.clientSecret)}`;
    this.#authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
  }

  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#loop = this.#run();
    // A silent stream (issuer gone, half-open TCP) is cut so the loop reconnects and catches up.
    this.#watchdog = setInterval(() => {
      if (!this.isFresh(this.#o.now())) this.#stream?.abort(new Error('revocation feed silent'));
    }, 1000);
    this.#watchdog.unref();
  }

  /**
   * Fresh: the feed was heard from within `maxStalenessMs`, and it is not stuck behind the head a heartbeat
   * announced (a lost item would otherwise leave a revoked token accepted while the stream looks healthy).
   */
  isFresh(nowMs: number): boolean {
    if (this.#behind !== undefined && nowMs - this.#behind.since > this.#o.catchUpTimeoutMs) return false;
    return this.#lastActivityAt !== undefined && nowMs - this.#lastActivityAt <= this.#o.maxStalenessMs;
  }

  /** Resolves once the feed has caught up at least once; otherwise settles with the next attempt's outcome. */
  whenSynced(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    this.start();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  stats(): { cursor: number; connected: boolean; connects: number; events: number; lastActivityAt: number | null } {
    return { cursor: this.#cursor, connected: this.#connected, connects: this.#connects, events: this.#events, lastActivityAt: this.#lastActivityAt ?? null };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#watchdog);
    this.#stream?.abort(new Error('closed'));
    if (this.#sleep) {
      clearTimeout(this.#sleep.timer);
      this.#sleep.resolve();
    }
    await this.#loop;
    this.#settle(new Error('revocation feed closed'));
  }

  async #run(): Promise<void> {
    let backoff = this.#o.minBackoffMs;
    while (!this.#closed) {
      const eventsBefore = this.#events;
      try {
        if (this.#o.mode === 'poll') {
          await this.#catchUp(undefined);
          backoff = this.#o.minBackoffMs;
          await this.#pause(this.#o.pollIntervalMs);
          continue;
        }
        await this.#streamOnce();
      } catch (err) {
        if (this.#closed) break;
        const e = err instanceof Error ? err : new Error(String(err));
        this.#o.onError?.(e);
        // The stream is down but the list may answer (a proxy without SSE, a restarting node): poll meanwhile.
        const polled = this.#o.mode === 'sse' && (await this.#catchUp(undefined).then(() => true, () => false));
        if (!polled) this.#settle(e);
      }
      if (this.#closed) break;
      if (this.#events > eventsBefore) backoff = this.#o.minBackoffMs;
      // Full jitter, so many resource servers do not reconnect to a restarted issuer in lock-step.
      await this.#pause(backoff / 2 + Math.random() * (backoff / 2));
      backoff = Math.min(backoff * 2, this.#o.maxBackoffMs);
    }
  }

  async #streamOnce(): Promise<void> {
    const ac = new AbortController();
    this.#stream = ac;
    try {
      const res = await this.#o.fetch(`${this.#base}/v1/revocations/stream?since=${this.#cursor}`, {
        headers: { authorization: this.#authorization, accept: 'text/event-stream', 'last-event-id': String(this.#cursor) },
        signal: ac.signal,
      });
      if (!res.ok || !res.body) throw new Error(`revocation stream: HTTP ${res.status}`);
      if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) throw new Error('revocation stream: not text/event-stream');
      this.#connects++;
      this.#connected = true;
      const reading = this.#read(res.body, ac.signal);
      reading.catch(() => undefined);
      try {
        await this.#catchUp(ac.signal);
      } catch (err) {
        ac.abort(err);
        throw err;
      }
      await reading;
    } finally {
      this.#connected = false;
      if (!ac.signal.aborted) ac.abort();
      this.#stream = undefined;
    }
  }

  async #read(body: ReadableStream<Uint8Array>, signal: AbortSignal): Promise<void> {
    const decoder = new TextDecoder();
    const parser = new SseParser((e) => this.#onEvent(e));
    const reader = body.getReader();
    const onAbort = () => void reader.cancel().catch(() => undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || signal.aborted) break;
        parser.push(decoder.decode(value, { stream: true }));
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('revocation stream aborted');
    throw new Error('revocation stream ended');
  }

  #onEvent(e: SseEvent): void {
    if (e.event === 'heartbeat') {
      this.#onHeartbeat(e.data);
      return;
    }
    if (e.event !== 'revocation') return;
    let item: { cursor?: unknown } | undefined;
    try {
      item = JSON.parse(e.data) as { cursor?: unknown };
    } catch {
      // Skipped, not retried: the issuer would replay the same bad item on every reconnect.
      this.#o.onError?.(new Error('revocation stream: malformed item'));
    }
    if (item) this.#o.onItem(item);
    this.#advance(e.id ?? item?.cursor);
    this.#events++;
    this.#lastActivityAt = this.#o.now();
    if (this.#behind !== undefined && this.#cursor >= this.#behind.head) this.#behind = undefined;
  }

  /**
   * A heartbeat carries the database head. Its cursor is never adopted (only items we applied move ours):
   * behind it, we catch up with `?since=` and count as stale if that does not succeed in time; ahead of it,
   * the feed was reset (a restored database), so we read it again from the start rather than skip items.
   */
  #onHeartbeat(data: string): void {
    this.#events++;
    let head: number | undefined;
    try {
      head = parseCursor((JSON.parse(data) as { cursor?: unknown }).cursor);
    } catch {
      head = undefined;
    }
    const now = this.#o.now();
    // An issuer without a head cursor in its heartbeats keeps the former behaviour: liveness only.
    if (head === undefined || head === this.#cursor) {
      this.#lastActivityAt = now;
      if (head !== undefined) this.#behind = undefined;
      return;
    }
    if (head < this.#cursor) this.#cursor = 0;
    if (this.#behind === undefined || head > this.#behind.head) this.#behind = { head, since: this.#behind?.since ?? now };
    this.#catchingUp ??= this.#catchUp(this.#stream?.signal, this.#o.catchUpTimeoutMs)
      .catch((err: unknown) => this.#o.onError?.(err instanceof Error ? err : new Error(String(err))))
      .finally(() => {
        this.#catchingUp = undefined;
      });
  }

  async #catchUp(signal: AbortSignal | undefined, timeoutMs = this.#o.requestTimeoutMs): Promise<void> {
    for (let page = 0; page < 10_000; page++) {
      const timeout = AbortSignal.timeout(timeoutMs);
      const res = await this.#o.fetch(`${this.#base}/v1/revocations?since=${this.#cursor}`, {
        headers: { authorization: this.#authorization, accept: 'application/json' },
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      if (!res.ok) throw new Error(`revocation list: HTTP ${res.status}`);
      const body = (await res.json()) as { cursor?: unknown; items?: unknown };
      if (!Array.isArray(body.items)) throw new Error('revocation list: malformed body');
      for (const item of body.items as unknown[]) this.#o.onItem(item);
      const before = this.#cursor;
      this.#advance(body.cursor);
      if (this.#cursor === before) break;
    }
    this.#lastActivityAt = this.#o.now();
    if (this.#behind !== undefined && this.#cursor >= this.#behind.head) this.#behind = undefined;
    this.#synced = true;
    this.#settle(undefined);
  }

  #advance(c: unknown): void {
    const n = parseCursor(c);
    if (n !== undefined && n > this.#cursor) this.#cursor = n;
  }

  #settle(err: Error | undefined): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      if (err) w.reject(err);
      else w.resolve();
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#sleep = undefined;
        resolve();
      }, ms);
      timer.unref();
      this.#sleep = { timer, resolve };
    });
  }
}
