/**
 * Work run after the response has gone (mail whose duration must not tell a free address from a taken one),
 * tracked so that a stopping node finishes it before its store and mailer close: a verification mail is not
 * lost to a SIGTERM that arrives just after the 202.
 */
export class DeferredWork {
  readonly #pending = new Set<Promise<void>>();

  constructor(private readonly onError: (err: unknown) => void) {}

  run(work: () => Promise<void>): void {
    const p: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(work)
      .catch(this.onError)
      .finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }

  /** waits for the work under way and the work queued behind it */
  async drain(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }
}
