/** One fault's window checked against the contract (see checks.ts), with the figures docs/operations.md quotes. */
import type { TesseraVerifier } from '@tessera/sdk';
import { contractBreaches, inWindow, refusedWithin } from './checks.js';
import { serving, type Cluster } from './cluster.js';
import type { Answer, LoadRecord } from './mixed-load.js';

export interface WindowResult {
  answers: Answer[];
  answeredDuring: number;
  serverErrors: Answer[];
  unavailableWithoutRetryAfter: Answer[];
  /** sessions logged out during the fault whose tokens the SDK still accepted after the deadline */
  notRefused: string[];
  /** node URLs not serving a database request within 5 s of recovery */
  notServing: string[];
  figures: Record<string, unknown>;
}

const SERVING_WITHIN_MS = 5000;

export async function checkWindow(cluster: Cluster, sdk: TesseraVerifier, record: LoadRecord, from: number, to: number, opts: { revokedWithinMs: number }): Promise<WindowResult> {
  // both clocks start at the end of the fault: the SDK check and the serving probes run side by side
  const [refusals, servingMs] = await Promise.all([
    refusedWithin(sdk, record.logouts.filter((l) => l.at >= from && l.at <= to), to, opts.revokedWithinMs),
    Promise.all(cluster.nodes.map((n) => serving(n.url, SERVING_WITHIN_MS))),
  ]);
  // answers of the fault and of the recovery that followed it
  const answers = inWindow(record.answers, from, Date.now());
  const { serverErrors, unavailableWithoutRetryAfter } = contractBreaches(answers);
  const statuses: Record<string, number> = {};
  for (const a of answers) statuses[a.status] = (statuses[a.status] ?? 0) + 1;
  const refusedMs = refusals.map((r) => r.ms).filter((m): m is number => m !== undefined);
  return {
    answers,
    answeredDuring: inWindow(record.answers, from, to).filter((a) => a.status > 0 && a.status < 500).length,
    serverErrors,
    unavailableWithoutRetryAfter,
    notRefused: refusals.filter((r) => r.ms === undefined || r.ms > opts.revokedWithinMs).map((r) => `${r.sid} (${r.ms ?? 'never'} ms)`),
    notServing: cluster.nodes.filter((_, i) => servingMs[i] === undefined).map((n) => n.url),
    figures: {
      faultMs: to - from,
      statuses,
      servingAgainMs: servingMs,
      revocations: refusals.length,
      slowestRefusalMs: refusedMs.length > 0 ? Math.max(...refusedMs) : null,
    },
  };
}
