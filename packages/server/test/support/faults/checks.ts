/** What the fault tests assert about a window of the load, shared by the fault and shutdown suites. */
import { createVerifier, isTesseraTokenError, type TesseraVerifier } from '@tessera/sdk';
import type { Cluster } from './cluster.js';
import type { Answer, LoadRecord, Logout } from './mixed-load.js';

export function sdkFor(cluster: Cluster): TesseraVerifier {
  return createVerifier({ issuer: cluster.proxy.url, clientId: cluster.client.id, clientSecret: cluster.client.secret, onError: () => undefined });
}

export function inWindow(answers: Answer[], from: number, to: number): Answer[] {
  return answers.filter((a) => a.at >= from && a.at < to);
}

/** Answers of 500 (never allowed) and 503s without Retry-After (the only allowed answer while a dependency is down). */
export function contractBreaches(answers: Answer[]): { serverErrors: Answer[]; unavailableWithoutRetryAfter: Answer[] } {
  return {
    serverErrors: answers.filter((a) => a.status === 500),
    unavailableWithoutRetryAfter: answers.filter((a) => a.status === 503 && !a.retryAfter),
  };
}

/**
 * Watches every logout the load makes from now on and measures how long after its 204 the SDK refused its
 * token as revoked (the "within 1 s, even during a Redis outage" promise). stop() returns the measurements;
 * a logout not refused within `withinMs` has `ms: undefined`.
 */
export function watchRevocations(sdk: TesseraVerifier, record: LoadRecord, withinMs: number): { stop(): Promise<Array<{ sid: string; ms: number | undefined }>> } {
  const seen = record.logouts.length;
  const results = new Map<string, number | undefined>();
  let running = true;
  const loop = (async () => {
    while (running || record.logouts.slice(seen).some((l) => !results.has(l.sid))) {
      for (const l of record.logouts.slice(seen)) {
        if (results.has(l.sid)) continue;
        const err = await sdk.verify(l.accessToken).then(() => undefined, (e: unknown) => e);
        const age = Date.now() - l.at;
        if (isTesseraTokenError(err) && err.code === 'token_revoked') results.set(l.sid, age);
        else if (age > withinMs) results.set(l.sid, undefined);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return [...results].map(([sid, ms]) => ({ sid, ms }));
    },
  };
}

/**
 * For every logout, the time (ms after `deadlineFrom`) at which the SDK first refused its access token as
 * revoked; `undefined` for a token still accepted at `deadlineFrom + withinMs`.
 */
export async function refusedWithin(sdk: TesseraVerifier, logouts: Logout[], deadlineFrom: number, withinMs: number): Promise<Array<{ sid: string; ms: number | undefined }>> {
  const pending = new Map(logouts.map((l) => [l.sid, l]));
  const result = new Map<string, number>();
  for (;;) {
    for (const [sid, l] of pending) {
      const err = await sdk.verify(l.accessToken).then(() => undefined, (e: unknown) => e);
      if (isTesseraTokenError(err) && err.code === 'token_revoked') {
        result.set(sid, Math.max(0, Date.now() - deadlineFrom));
        pending.delete(sid);
      }
    }
    if (pending.size === 0 || Date.now() > deadlineFrom + withinMs) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  return logouts.map((l) => ({ sid: l.sid, ms: result.get(l.sid) }));
}

/** Every account answered 201 and every session answered 200 exists; every logout is revoked and in the feed. */
export async function lossCheck(cluster: Cluster, record: LoadRecord): Promise<{ accounts: number; sessions: number; logouts: number; missingAccounts: string[]; missingSessions: string[]; logoutsNotRevoked: string[]; logoutsNotInFeed: string[] }> {
  const db = await cluster.db();
  try {
    const users = new Set((await db.query<{ email: string }>('select email from users where email = any($1)', [record.accounts])).rows.map((r) => r.email));
    const sessions = await db.query<{ id: string; revoked_at: string | null }>('select id, revoked_at from sessions where id = any($1)', [record.sessions]);
    const byId = new Map(sessions.rows.map((r) => [r.id, r]));
    const sids = record.logouts.map((l) => l.sid);
    const feed = new Set((await db.query<{ sid: string }>('select sid from revocations where sid = any($1)', [sids])).rows.map((r) => r.sid));
    return {
      accounts: record.accounts.length,
      sessions: record.sessions.length,
      logouts: record.logouts.length,
      missingAccounts: record.accounts.filter((e) => !users.has(e)),
      missingSessions: record.sessions.filter((s) => !byId.has(s)),
      logoutsNotRevoked: sids.filter((s) => byId.get(s)?.revoked_at == null),
      logoutsNotInFeed: sids.filter((s) => !feed.has(s)),
    };
  } finally {
    await db.end();
  }
}
