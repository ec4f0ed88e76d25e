/**
 * A steady mixed load as users make it: sign-up, login, /v1/me, refresh, /v1/me, logout, in a loop per
 * worker. Everything that was answered is recorded with its time, so a test can slice a fault's window
 * and check what the contract says about it (no 500, 503 only with Retry-After, nothing committed lost).
 */
import { randomUUID } from 'node:crypto';
import { mailedToken, type Mailbox } from '../users.js';

export interface Answer {
  at: number;
  ms: number;
  route: string;
  /** HTTP status, or 0 when the connection failed */
  status: number;
  retryAfter: string | null;
}

export interface Logout {
  at: number;
  sid: string;
  accessToken: string;
}

export interface LoadRecord {
  answers: Answer[];
  /** emails answered 202 and then verified */
  accounts: string[];
  /** session ids answered 200 by /v1/login */
  sessions: string[];
  /** logouts answered 204 */
  logouts: Logout[];
}

export interface MixedLoad {
  record: LoadRecord;
  stop(): Promise<void>;
}

const PASSWORD = 'correct horse battery staple 12';
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One recorded request: status, Retry-After and time, whatever the outcome (0 when the connection failed). */
function caller(baseUrl: string, record: LoadRecord) {
  return async (route: string, method: string, path: string, init: { json?: unknown; form?: Record<string, string>; token?: string } = {}) => {
    const headers: Record<string, string> = {};
    let body: string | undefined;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    } else if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    const at = Date.now();
    try {
      const res = await fetch(baseUrl + path, { method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(15_000) });
      const text = await res.text();
      record.answers.push({ at, ms: Date.now() - at, route, status: res.status, retryAfter: res.headers.get('retry-after') });
      let json: Record<string, unknown> = {};
      try {
        json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        /* not JSON */
      }
      return { status: res.status, json };
    } catch {
      record.answers.push({ at, ms: Date.now() - at, route, status: 0, retryAfter: null });
      return { status: 0, json: {} as Record<string, unknown> };
    }
  };
}

export function startMixedLoad(baseUrl: string, opts: { workers?: number; pauseMs?: number; mailbox: Mailbox }): MixedLoad {
  const record: LoadRecord = { answers: [], accounts: [], sessions: [], logouts: [] };
  let running = true;

  const call = caller(baseUrl, record);

  const cycle = async (): Promise<void> => {
    const email = `load-${randomUUID()}@example.test`;
    if ((await call('signup', 'POST', '/v1/accounts', { json: { email, password: PASSWORD } })).status !== 202) return;
    // the verification link, from the outbox of whichever node took the sign-up (mail goes out after the answer)
    const token = await mailedToken(opts.mailbox, email, 'verify-email', { timeoutMs: 3000 }).catch(() => undefined);
    if (token === undefined || (await call('verify', 'POST', '/v1/email/verify', { json: { token } })).status !== 204) return;
    record.accounts.push(email);
    const login = await call('login', 'POST', '/v1/login', { json: { email, password: PASSWORD } });
    if (login.status !== 200) return;
    record.sessions.push(String(login.json.session_id));
    let access = String(login.json.access_token);
    await call('me', 'GET', '/v1/me', { token: access });
    const refreshed = await call('refresh', 'POST', '/v1/token', { form: { grant_type: 'refresh_token', refresh_token: String(login.json.refresh_token) } });
    if (refreshed.status === 200) access = String(refreshed.json.access_token);
    await call('me', 'GET', '/v1/me', { token: access });
    const out = await call('logout', 'POST', '/v1/logout', { token: access });
    if (out.status === 204) record.logouts.push({ at: Date.now(), sid: String(login.json.session_id), accessToken: access });
  };

  const worker = async () => {
    while (running) {
      await cycle();
      await pause(opts.pauseMs ?? 20);
    }
  };
  const workers = Array.from({ length: opts.workers ?? 3 }, () => worker());
  return {
    record,
    stop: async () => {
      running = false;
      await Promise.all(workers);
    },
  };
}

/** Status counts of the answers in [from, to). */
export function statusCounts(answers: Answer[], from = 0, to = Infinity): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of answers) if (a.at >= from && a.at < to) counts[a.status] = (counts[a.status] ?? 0) + 1;
  return counts;
}
