import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { LocalUnavailableError } from './unavailable.js';

/** @node-rs/argon2's hash options as the worker passes them on (algorithm 2 is argon2id). */
export interface Argon2HashOptions {
  algorithm: number;
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

type Job = { op: 'hash'; password: string; options: Argon2HashOptions } | { op: 'verify'; stored: string; password: string };

interface Pending {
  id: number;
  job: Job;
  resolve: (value: string | boolean) => void;
  reject: (err: Error) => void;
  /** sent again once already, after its worker died running it */
  retried: boolean;
}

interface Slot {
  worker: Worker;
  /** the jobs sent to this worker, in the order it runs them */
  held: Map<number, Pending>;
}

/**
 * The pool itself failed (closed, or a worker died twice running a job), as against argon2 refusing an input:
 * answered 503 with Retry-After (lib/unavailable.ts), never a 500 or a wrong password.
 */
export class Argon2PoolError extends LocalUnavailableError {
  override readonly name = 'Argon2PoolError';
}

type Reply = { id: number; value: string | boolean } | { id: number; error: string };

/**
 * The worker: one job at a time from its message queue, with the synchronous argon2 calls. CommonJS source
 * evaluated in the thread, so it runs alike from the TypeScript sources (tests) and from the built package.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const argon2 = require(workerData.argon2);
parentPort.on('message', (m) => {
  let reply;
  try {
    reply = { id: m.id, value: m.op === 'verify' ? argon2.verifySync(m.stored, m.password) : argon2.hashSync(m.password, m.options) };
  } catch (err) {
    reply = { id: m.id, error: err instanceof Error ? err.message : String(err) };
  }
  parentPort.postMessage(reply);
});
`;

/**
 * Jobs a worker holds at once: the one it runs and the next. When a hash ends the worker starts the next at
 * once from its own queue, instead of idling until the event loop, busy with another request, hands it one.
 */
const DEPTH = 2;

/**
 * argon2 on `size` worker threads, one per core: at most `size` hashes run at once and the rest queue in
 * arrival order (nothing is refused). More hashes than cores only share the cores and thrash their caches
 * (each needs its 19 MiB); libuv's pool, where @node-rs/argon2's async calls run, has 4 threads whatever the
 * cores, and a slot freed there waits for the event loop before the next hash starts.
 * Idle workers do not keep the process alive; a worker that dies is replaced and its jobs are sent again.
 */
export class Argon2Pool {
  readonly #slots: Slot[] = [];
  readonly #queue: Pending[] = [];
  readonly #argon2 = createRequire(import.meta.url).resolve('@node-rs/argon2');
  #nextId = 0;
  #closed = false;

  /** `source`: the worker's code; only tests replace it */
  constructor(readonly size: number, private readonly source = WORKER_SOURCE) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('argon2 pool size must be a positive integer');
  }

  hash(password: string, options: Argon2HashOptions): Promise<string> {
    return this.#submit({ op: 'hash', password, options }) as Promise<string>;
  }

  /** Rejects with a plain Error when `stored` is not an argon2 hash, with Argon2PoolError when the pool failed. */
  verify(stored: string, password: string): Promise<boolean> {
    return this.#submit({ op: 'verify', stored, password }) as Promise<boolean>;
  }

  /** hashes running now (one per busy worker) and hashes waiting their turn */
  load(): { active: number; waiting: number } {
    let active = 0;
    let held = 0;
    for (const s of this.#slots) {
      active += Math.min(1, s.held.size);
      held += s.held.size;
    }
    return { active, waiting: held - active + this.#queue.length };
  }

  /** Ends the workers; jobs not finished are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    const refused = [...this.#queue.splice(0), ...this.#slots.flatMap((s) => [...s.held.values()])];
    for (const p of refused) p.reject(new Argon2PoolError('argon2 pool closed'));
    await Promise.all(this.#slots.splice(0).map((s) => s.worker.terminate()));
  }

  #submit(job: Job): Promise<string | boolean> {
    if (this.#closed) return Promise.reject(new Argon2PoolError('argon2 pool closed'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, job, resolve, reject, retried: false });
      this.#pump();
    });
  }

  /** Hands queued jobs to workers with room, the least busy first, so every core gets one before any gets two. */
  #pump(): void {
    while (this.#queue.length > 0) {
      const slot = this.#slotWithRoom();
      if (slot === undefined) return;
      const p = this.#queue.shift()!;
      if (slot.held.size === 0) slot.worker.ref(); // a job in flight keeps the process alive until it ends
      slot.held.set(p.id, p);
      slot.worker.postMessage({ id: p.id, ...p.job });
    }
  }

  #slotWithRoom(): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.#slots) if (s.held.size < DEPTH && (best === undefined || s.held.size < best.held.size)) best = s;
    if ((best === undefined || best.held.size > 0) && this.#slots.length < this.size) {
      try {
        return this.#spawn();
      } catch (err) {
        // no thread could start (the process's thread limit): the jobs are refused now, not left waiting
        if (best !== undefined || this.#slots.length > 0) return best;
        const why = err instanceof Error ? err.message : String(err);
        for (const p of this.#queue.splice(0)) p.reject(new Argon2PoolError(`no argon2 worker could start: ${why}`));
      }
    }
    return best;
  }

  #spawn(): Slot {
    const worker = new Worker(this.source, { eval: true, workerData: { argon2: this.#argon2 } });
    worker.unref();
    const slot: Slot = { worker, held: new Map() };
    this.#slots.push(slot);
    worker.on('message', (m: Reply) => this.#done(slot, m));
    worker.on('error', () => undefined); // followed by 'exit', which recovers
    worker.on('exit', () => this.#lost(slot));
    return slot;
  }

  #done(slot: Slot, m: Reply): void {
    const p = slot.held.get(m.id);
    if (p === undefined) return;
    slot.held.delete(m.id);
    if (slot.held.size === 0) slot.worker.unref();
    if ('error' in m) p.reject(new Error(m.error));
    else p.resolve(m.value);
    this.#pump();
  }

  /**
   * A worker ended (crashed, or killed from outside): its jobs go to a new one. The job it was running may be
   * what killed it, so that one is sent at most once more; the jobs it held behind it never ran, and are
   * not refused for a neighbour's fault.
   */
  #lost(slot: Slot): void {
    const i = this.#slots.indexOf(slot);
    if (i < 0) return; // closed
    this.#slots.splice(i, 1);
    const [running, ...behind] = slot.held.values();
    const again: Pending[] = [];
    if (running !== undefined) {
      if (running.retried) running.reject(new Argon2PoolError('argon2 worker exited'));
      else {
        running.retried = true;
        again.push(running);
      }
    }
    this.#queue.unshift(...again, ...behind);
    this.#pump();
  }
}

const shared = new Map<number, Argon2Pool>();

/** One pool of each size per process: every server instance in it shares the same cores. */
export function sharedArgon2Pool(size: number): Argon2Pool {
  let pool = shared.get(size);
  if (pool === undefined) {
    pool = new Argon2Pool(size);
    shared.set(size, pool);
  }
  return pool;
}
