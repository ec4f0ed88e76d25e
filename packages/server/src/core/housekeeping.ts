/**
 * Data lifecycle: what the database keeps, and for how long. Every node runs the same housekeeping pass on a
 * timer; each step deletes one small batch at a time (the store makes concurrent batches on other nodes take
 * other rows), so no pass holds a long lock and a node that dies mid-pass leaves nothing half done.
 */
import type { Clock } from '../lib/clock.js';
import type { HousekeepingStore as PruneStore, PruneRange, PruneTarget, RevocationStore } from '../store/ports/index.js';

export interface LifecyclePolicy {
  graceSec: number;
  idleTtlSec: number;
  eventRetentionDays: number;
  /** how long a revoked session (and its tokens) is kept: until then a replay of its refresh token is still reported as reuse */
  endedSessionRetentionSec: number;
  /** rows per batch */
  batchSize?: number;
  /** batches per target and pass: a big backlog drains over several passes instead of one long one */
  maxBatches?: number;
  intervalMs?: number;
}

/** what one pass removed, per target */
export type PruneReport = Partial<Record<PruneTarget | 'revocations', number>>;

/**
 * Nodes' clocks differ: a node may still count a token inside its grace window for a while after another
 * node's clock left it. Cut-offs that a replay decision depends on wait this much longer.
 */
export const CLOCK_SKEW_MS = 60_000;
/** spent and expired challenges, codes and links stay an hour, so a late attempt is told "expired", not "unknown" */
const EXPIRED_MARGIN_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** the policy as configured (config.ts) */
export function lifecyclePolicy(c: { TESSERA_REFRESH_GRACE: number; TESSERA_SESSION_IDLE_TTL: number; TESSERA_EVENT_RETENTION_DAYS: number; TESSERA_ENDED_SESSION_RETENTION: number }): LifecyclePolicy {
  return {
    graceSec: c.TESSERA_REFRESH_GRACE,
    idleTtlSec: c.TESSERA_SESSION_IDLE_TTL,
    eventRetentionDays: c.TESSERA_EVENT_RETENTION_DAYS,
    endedSessionRetentionSec: c.TESSERA_ENDED_SESSION_RETENTION,
  };
}

export type HousekeeperStore = PruneStore & Pick<RevocationStore, 'pruneRevocations'>;

export class Housekeeper {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<PruneReport> | undefined;
  /** lower bound of the sealed-successor scan: what this node has already cleared (one full scan at start) */
  #sealedFrom: number | undefined;

  constructor(
    private readonly store: HousekeeperStore,
    private readonly clock: Clock,
    private readonly policy: LifecyclePolicy,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** the cut-off of every target at `now`: everything before it can never be used again */
  cutoffs(now: number): Array<[PruneTarget, PruneRange]> {
    const p = this.policy;
    const graceMs = p.graceSec * 1000;
    const idleMs = p.idleTtlSec * 1000;
    const ended = p.endedSessionRetentionSec * 1000;
    const sealedBefore = now - graceMs - CLOCK_SKEW_MS;
    return [
      // the successor pair is needed only while a same-client replay may still get it
      ['sealedSuccessors', { before: sealedBefore, ...(this.#sealedFrom !== undefined ? { from: this.#sealedFrom } : {}) }],
      // a used token only detects theft, and a client idle longer than the idle lifetime could not refresh anyway
      ['usedRefreshTokens', { before: now - Math.max(idleMs, graceMs + CLOCK_SKEW_MS) }],
      ['revokedSessions', { before: now - ended }],
      // idle-expired sessions are dead (nothing refreshes them); they go once dead for the retention too
      ['idleSessions', { before: now - idleMs - ended }],
      ['mfaChallenges', { before: now - EXPIRED_MARGIN_MS }],
      ['passwordResets', { before: now - EXPIRED_MARGIN_MS }],
      ['oauthCodes', { before: now - EXPIRED_MARGIN_MS }],
      ['emailVerifications', { before: now - EXPIRED_MARGIN_MS }],
      ['emailChanges', { before: now - EXPIRED_MARGIN_MS }],
      ['events', { before: now - p.eventRetentionDays * DAY_MS }],
    ];
  }

  /** one pass over every target; concurrent calls share the pass under way */
  runOnce(): Promise<PruneReport> {
    this.#running ??= this.pass().finally(() => (this.#running = undefined));
    return this.#running;
  }

  private async pass(): Promise<PruneReport> {
    const batch = this.policy.batchSize ?? 500;
    const maxBatches = this.policy.maxBatches ?? 20;
    const now = this.clock.now();
    const report: PruneReport = {};
    let total = 0;
    for (const [target, range] of this.cutoffs(now)) {
      let n = 0;
      let last = batch;
      for (let i = 0; i < maxBatches && last === batch; i++) {
        last = await this.store.pruneBatch(target, range, batch);
        n += last;
        // between batches other requests get the database (and the event loop)
        await new Promise((r) => setImmediate(r));
      }
      // drained up to the cut-off: later passes start there (minus the skew, for rows another node wrote late)
      if (target === 'sealedSuccessors' && last < batch) this.#sealedFrom = range.before - CLOCK_SKEW_MS;
      if (n > 0) report[target] = n;
      total += n;
    }
    const revocations = await this.store.pruneRevocations(now);
    if (revocations > 0) report.revocations = revocations;
    if (total > 0) await this.store.compact();
    return report;
  }

  start(): void {
    if (this.#timer) return;
    const base = this.policy.intervalMs ?? 60_000;
    const schedule = (): void => {
      // jittered, so the nodes of a fleet do not all start their passes at the same moment
      this.#timer = setTimeout(() => {
        this.runOnce().catch(this.onError).finally(() => {
          if (this.#timer) schedule();
        });
      }, base * (0.8 + Math.random() * 0.4));
      this.#timer.unref();
    };
    schedule();
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }
}
