import type { RevocationStore } from '../store/ports/index.js';
import type { SharedState } from '../state/types.js';
import { REVOCATION_CHANNEL } from './revocations.js';

const RESUBSCRIBE_MS = 5000;

export interface FeedTailOptions {
  /** how often the feed table's head is read while streams are connected, ms */
  pollMs?: number;
  /** how often each stream sends a heartbeat carrying the database head, ms */
  heartbeatMs?: number;
  /** subscription failures (Redis down); the poll keeps the streams fed meanwhile */
  onError?: (err: unknown) => void;
}

/**
 * One per node: tells the node's revocation streams when the database feed has moved. Pub/sub messages are
 * only a wake-up to read the feed table's head; their content is never delivered, so a message from another
 * deployment on a shared Redis, a forged one, or one lost on the way can neither inject an item nor make a
 * stream skip one. The head is also polled every `pollMs` while any stream is connected, so streams stay
 * fed (within `pollMs`) when pub/sub drops a message or Redis is gone. Each stream reads the items from the
 * database from its own subscriber's cursor (http/routes/revocations.ts).
 */
export class FeedTail {
  pollMs: number;
  heartbeatMs: number;
  readonly #listeners = new Set<() => void>();
  readonly #onError: (err: unknown) => void;
  #head = -1;
  #reading: Promise<number> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: Promise<(() => Promise<void>) | undefined> | undefined;
  #subscribedAt = 0;

  constructor(
    private readonly store: Pick<RevocationStore, 'latestRevocationCursor'>,
    private readonly state: Pick<SharedState, 'subscribe'>,
    opts: FeedTailOptions = {},
  ) {
    this.pollMs = opts.pollMs ?? 250;
    this.heartbeatMs = opts.heartbeatMs ?? 5000;
    this.#onError = opts.onError ?? (() => undefined);
  }

  /** The head cursor as last read by the poll or a wake-up (-1 before the first read). */
  get head(): number {
    return this.#head;
  }

  /** Calls `listener` whenever the database head moves; returns the function that stops it. */
  watch(listener: () => void): () => void {
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) this.#start();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#stop();
    };
  }

  /** The head cursor, read from the database now (for heartbeats); rejects when it cannot be read. */
  peekHead(): Promise<number> {
    return this.store.latestRevocationCursor();
  }

  /** Reads the head (one read at a time; callers meanwhile share it) and wakes the streams when it moved. */
  readHead(): Promise<number> {
    this.#reading ??= this.store
      .latestRevocationCursor()
      .then((head) => {
        if (head !== this.#head) {
          this.#head = head;
          for (const l of this.#listeners) l();
        }
        return head;
      })
      .finally(() => {
        this.#reading = undefined;
      });
    return this.#reading;
  }

  /** Subscribing may wait for Redis; the streams never do (the poll feeds them meanwhile). */
  #subscribe(): void {
    this.#subscribedAt = Date.now();
    const pending = this.state
      .subscribe(REVOCATION_CHANNEL, () => void this.readHead().catch(this.#onError))
      .catch((err: unknown) => {
        this.#onError(err);
        if (this.#unsubscribe === pending) this.#unsubscribe = undefined; // retried from the poll
        return undefined;
      });
    this.#unsubscribe = pending;
  }

  #start(): void {
    this.#subscribe();
    const tick = () => {
      if (this.#unsubscribe === undefined && Date.now() - this.#subscribedAt > RESUBSCRIBE_MS) this.#subscribe();
      this.readHead()
        .catch(this.#onError)
        .finally(() => {
          if (this.#timer === undefined) return;
          this.#timer = setTimeout(tick, this.pollMs);
          this.#timer.unref();
        });
    };
    this.#timer = setTimeout(tick, this.pollMs);
    this.#timer.unref();
  }

  #stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = undefined;
    void unsubscribe?.then((u) => u?.()).catch(this.#onError);
  }

  close(): void {
    this.#listeners.clear();
    this.#stop();
  }
}
