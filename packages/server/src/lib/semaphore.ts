/**
 * A counting semaphore: at most `limit` tasks run at once, the rest wait in arrival order. Nothing is ever
 * refused; a caller only waits its turn.
 */
export class Semaphore {
  #active = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('semaphore limit must be a positive integer');
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#active++;
    try {
      return await task();
    } finally {
      // the slot passes straight to the next waiter (active stays the same), so no newcomer can overtake it
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active--;
    }
  }

  /** tasks running and tasks waiting now */
  stats(): { active: number; waiting: number } {
    return { active: this.#active, waiting: this.#waiting.length };
  }
}
