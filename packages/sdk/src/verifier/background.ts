import type { RevocationFeed } from '../feed.js';
import type { JwksCache } from '../jwks.js';
import type { RevocationSet } from '../revocations.js';

export const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/** The verifier's background work: loading keys until they load, the feed, and the revocation sweep. */
export class Background {
  #sweeper: NodeJS.Timeout | undefined;
  #keyRetry: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    private readonly jwks: JwksCache,
    private readonly feed: RevocationFeed | undefined,
    private readonly revocations: RevocationSet,
    private readonly now: () => number,
    private readonly onError: ((err: Error) => void) | undefined,
  ) {}

  start(): void {
    if (this.#sweeper || this.#closed) return;
    this.feed?.start();
    this.#loadKeys(500);
    this.#sweeper = setInterval(() => this.revocations.sweep(this.now()), 30_000);
    this.#sweeper.unref();
  }

  // Keeps trying to load the keys until it succeeds, so a resource server started before its issuer heals.
  #loadKeys(delayMs: number): void {
    this.jwks.ensureLoaded().catch((err: unknown) => {
      this.onError?.(asError(err));
      if (this.#closed) return;
      this.#keyRetry = setTimeout(() => this.#loadKeys(Math.min(delayMs * 2, 10_000)), delayMs);
      this.#keyRetry.unref();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    clearTimeout(this.#keyRetry);
    await this.feed?.close();
  }
}
