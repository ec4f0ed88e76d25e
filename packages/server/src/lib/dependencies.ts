/**
 * Watches the dependencies a node cannot serve without (the database, Redis). A probe runs every second;
 * the first failure logs the outage once, and the first success after it logs the recovery once with its
 * duration. Nothing is restarted: pools and clients reconnect by themselves, this only observes and reports.
 */
import type { Logger } from 'pino';

export type DependencyName = 'database' | 'redis';

export interface DependencyListener {
  (name: DependencyName, up: boolean, outageMs: number): void;
}

interface Watched {
  probe: () => Promise<void>;
  downSince: number | undefined;
}

export class DependencyMonitor {
  readonly #watched = new Map<DependencyName, Watched>();
  readonly #log: Logger;
  readonly #intervalMs: number;
  readonly #listeners: DependencyListener[] = [];
  #timer: NodeJS.Timeout | undefined;
  #probing: Promise<void> | undefined;

  constructor(probes: Partial<Record<DependencyName, () => Promise<void>>>, log: Logger, intervalMs = 1000) {
    for (const [name, probe] of Object.entries(probes) as Array<[DependencyName, () => Promise<void>]>) {
      this.#watched.set(name, { probe, downSince: undefined });
    }
    this.#log = log;
    this.#intervalMs = intervalMs;
  }

  /** Adds a dependency known only later (Redis, once its client exists). */
  watch(name: DependencyName, probe: () => Promise<void>): void {
    this.#watched.set(name, { probe, downSince: this.#watched.get(name)?.downSince });
  }

  onChange(listener: DependencyListener): void {
    this.#listeners.push(listener);
  }

  up(name: DependencyName): boolean {
    return this.#watched.get(name)?.downSince === undefined;
  }

  /** Seconds of the outage in progress (0 when up). */
  outageSeconds(name: DependencyName, now = Date.now()): number {
    const since = this.#watched.get(name)?.downSince;
    return since === undefined ? 0 : (now - since) / 1000;
  }

  /** A request just failed on a dependency: probe now rather than at the next tick. */
  suspect(): void {
    void this.probe();
  }

  /** A driver reported an error event (ioredis emits one per failed reconnect): mark it down once. */
  reportError(name: DependencyName, err: unknown): void {
    this.#mark(name, false, err);
  }

  probe(): Promise<void> {
    this.#probing ??= (async () => {
      await Promise.all(
        [...this.#watched.entries()].map(async ([name, w]) => {
          try {
            await w.probe();
            this.#mark(name, true);
          } catch (err) {
            this.#mark(name, false, err);
          }
        }),
      );
    })().finally(() => {
      this.#probing = undefined;
    });
    return this.#probing;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.probe(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #mark(name: DependencyName, up: boolean, err?: unknown): void {
    const w = this.#watched.get(name);
    if (!w) return;
    const now = Date.now();
    if (!up && w.downSince === undefined) {
      w.downSince = now;
      this.#log.warn({ dependency: name, err }, `${name} unreachable: answering 503 until it is back`);
      for (const l of this.#listeners) l(name, false, 0);
    } else if (up && w.downSince !== undefined) {
      const outageMs = now - w.downSince;
      w.downSince = undefined;
      this.#log.warn({ dependency: name, outageSeconds: outageMs / 1000 }, `${name} reachable again after ${(outageMs / 1000).toFixed(1)} s`);
      for (const l of this.#listeners) l(name, true, outageMs);
    }
  }
}
