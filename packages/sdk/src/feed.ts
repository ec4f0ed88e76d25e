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

  constructor(opts: RevocationFeedOptions) {
    const poll = opts.pollIntervalMs ?? Math.max(1000, Math.floor(opts.maxStalenessMs / 3));
    // Retries stay well inside the staleness window, so an issuer restart costs seconds of 503, not minutes.
    const maxBackoff = Math.min(10_000, Math.max(1000, Math.floor(opts.maxStalenessMs / 4)));
    this.#o = { pollIntervalMs: poll, minBackoffMs: 250, maxBackoffMs: maxBackoff, requestTimeoutMs: 10_000, ...opts };
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

  isFresh(nowMs: number): boolean {
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
    if (e.event === 'revocation') {
      let item: { cursor?: unknown } | undefined;
      try {
        item = JSON.parse(e.data) as { cursor?: unknown };
      } catch {
        // Skipped, not retried: the issuer would replay the same bad item on every reconnect.
        this.#o.onError?.(new Error('revocation stream: malformed item'));
      }
      if (item) this.#o.onItem(item);
      this.#advance(e.id ?? item?.cursor);
    } else if (e.event !== 'heartbeat') {
      return;
    }
    // A heartbeat's cursor is not adopted: only items we actually applied move the cursor forward.
    this.#events++;
    this.#lastActivityAt = this.#o.now();
  }

  async #catchUp(signal: AbortSignal | undefined): Promise<void> {
    for (let page = 0; page < 10_000; page++) {
      const timeout = AbortSignal.timeout(this.#o.requestTimeoutMs);
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
    this.#synced = true;
    this.#settle(undefined);
  }

  #advance(c: unknown): void {
    const n = typeof c === 'number' ? c : typeof c === 'string' && /^\d{1,15}$/.test(c) ? Number(c) : NaN;
    if (Number.isSafeInteger(n) && n > this.#cursor) this.#cursor = n;
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
