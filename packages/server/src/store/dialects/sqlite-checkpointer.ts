/**
 * SQLite's automatic checkpoint runs inside whichever COMMIT takes the WAL past wal_autocheckpoint pages,
 * and fsyncs the WAL and the database file there: on one event loop, every request waits behind that
 * commit. So a worker thread with its own connection to the same file checkpoints instead, PASSIVE, when
 * another connection has committed since its last look. PASSIVE never waits for (nor blocks) the serving
 * connection, and a checkpoint only copies committed frames into the database file: nothing is lost, and
 * the WAL is reset only once every frame is in the file.
 *
 * The worker is a self-contained script run with `eval` rather than a module file: it needs no build entry
 * and runs the same from src/ (tsx, vitest: a .ts worker file would need their loaders) and from dist/;
 * better-sqlite3 is handed to it as an absolute path resolved from here.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SqliteDatabase from 'better-sqlite3';

/** SQLite's own default, restored on the serving connection if the worker fails */
export const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;
/**
 * The serving connection's threshold while the worker runs, so a wedged worker (alive, not checkpointing)
 * cannot let the WAL grow without bound. Under sustained writes it is also where the WAL restarts: only the
 * writer restarts it, after a checkpoint that reached its end, and a pass that commits keep racing ends
 * short; the worker has copied most frames by then, and this comes 10 times less often than SQLite's 1,000.
 */
export const BACKSTOP_AUTOCHECKPOINT_PAGES = 10000;
/** how often the worker looks for new commits (a pragma on its own connection, off the event loop) */
export const CHECKPOINT_INTERVAL_MS = 200;
/** how long closing the store waits for the worker's connection to close (blocking: this is shutdown) */
const STOP_WAIT_MS = 2000;

/** `pragma wal_checkpoint`'s row: frames in the WAL and frames now in the database file */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

export interface Checkpointer {
  /** one checkpoint now, answered by the worker */
  checkpoint(): Promise<CheckpointResult>;
  /**
   * Closes the worker's connection (waiting for it, up to STOP_WAIT_MS) and ends the thread; the serving
   * connection, left to the caller, is then the last one: its close checkpoints and removes the WAL.
   */
  stop(): void;
  /** settles when the thread has ended (stopped, failed or terminated) */
  readonly exited: Promise<void>;
  /** the thread itself (tests end it to exercise the backstop) */
  readonly worker: Worker;
}

export interface CheckpointerOptions {
  intervalMs?: number;
  journalSizeLimit: number;
  warn?: ((message: string) => void) | undefined;
}

// plain CommonJS, run by the worker as is; SQLITE_BUSY/LOCKED are transient (another process's checkpoint or
// exclusive lock): the next tick retries, anything else ends the worker and the backstop takes over
const WORKER_SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads');
const closed = new Int32Array(workerData.closed);
const done = () => { Atomics.store(closed, 0, 1); Atomics.notify(closed, 0); };
process.on('exit', done);
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 0');
db.pragma('journal_size_limit = ' + Number(workerData.journalSizeLimit));
let seen = -1;
let pending = false;
const checkpoint = () => {
  const row = db.pragma('wal_checkpoint(PASSIVE)')[0];
  pending = row.busy !== 0 || row.checkpointed < row.log;
  return row;
};
const transient = (err) => err && (String(err.code).startsWith('SQLITE_BUSY') || String(err.code).startsWith('SQLITE_LOCKED'));
const tick = () => {
  try {
    const version = db.pragma('data_version', { simple: true });
    if (version === seen && !pending) return;
    seen = version;
    checkpoint();
  } catch (err) {
    if (!transient(err)) { done(); throw err; }
  }
};
const timer = setInterval(tick, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m.cmd === 'checkpoint') {
    try { parentPort.postMessage({ id: m.id, row: checkpoint() }); } catch (err) { parentPort.postMessage({ id: m.id, error: String(err) }); }
  } else if (m.cmd === 'stop') {
    clearInterval(timer);
    try { db.close(); } finally { done(); }
    process.exit(0);
  }
});
`;

type Reply = { id: number; row?: CheckpointResult; error?: string };

/**
 * Starts the checkpointing worker for a file database and lowers the serving connection's own checkpoints
 * to the backstop. When the thread ends without stop(), the serving connection checkpoints by itself again
 * (SQLite's default) and `warn` is told.
 */
export function startCheckpointer(conn: SqliteDatabase.Database, file: string, opts: CheckpointerOptions): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const closed = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(WORKER_SCRIPT, { eval: true, workerData: { driver, closed: closed.buffer, file, intervalMs: opts.intervalMs ?? CHECKPOINT_INTERVAL_MS, journalSizeLimit: opts.journalSizeLimit } });
  // never keeps the process alive: a process that forgets to close the store still exits
  worker.unref();
  conn.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
  let stopping = false;
  let ended = false;
  let next = 0;
  const waiting = new Map<number, { resolve: (r: CheckpointResult) => void; reject: (e: Error) => void }>();
  worker.on('message', (m: Reply) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.row) w?.resolve(m.row);
    else w?.reject(new Error(m.error ?? 'checkpoint failed'));
  });
  let failure: Error | undefined;
  worker.on('error', (err) => (failure = err));
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', (code) => {
      ended = true;
      for (const w of waiting.values()) w.reject(new Error('the SQLite checkpoint worker has ended'));
      waiting.clear();
      if (!stopping && conn.open) {
        conn.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
        opts.warn?.(`the SQLite checkpoint worker ended (exit code ${code}${failure ? `: ${failure.message}` : ''}); the serving connection checkpoints by itself again`);
      }
      resolve();
    }),
  );
  return {
    worker,
    exited,
    checkpoint: () =>
      new Promise<CheckpointResult>((resolve, reject) => {
        if (ended || stopping) return reject(new Error('the SQLite checkpoint worker has ended'));
        const id = next++;
        waiting.set(id, { resolve, reject });
        worker.postMessage({ cmd: 'checkpoint', id });
      }),
    stop() {
      if (stopping) return;
      stopping = true;
      if (ended) return;
      worker.postMessage({ cmd: 'stop' });
      // two connections closing at once may each see the other and both leave the WAL behind (consistent,
      // replayed on the next open, but not clean): the worker's closes first, the caller's last
      Atomics.wait(closed, 0, 0, STOP_WAIT_MS);
      // a worker stuck in a call still ends: terminate takes effect when that call returns
      setTimeout(() => void worker.terminate(), STOP_WAIT_MS).unref();
    },
  };
}
