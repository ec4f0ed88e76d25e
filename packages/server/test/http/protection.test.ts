import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { http, startServer, type TestServer } from '../support/server.js';
import { spawnServer, type ServerProcess } from '../support/process.js';
import { mailText, startSmtpSink, type SmtpSink } from '../support/smtp.js';
import { signUp } from '../support/users.js';

const PASSWORD = 'correct horse battery staple';
const LONDON = '81.2.69.160';
const SYDNEY = '1.1.1.1';
const PARIS = '90.84.0.1';
const TOKYO = '210.130.0.1';
const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';

const from = (ip: string, extra: Record<string, string> = {}) => ({ 'x-forwarded-for': ip, 'user-agent': UA, ...extra });

describe('brute-force limits over HTTP', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ env: { TESSERA_TRUST_PROXY: 'loopback', TESSERA_LOGIN_LIMIT_PER_IP: '150', TESSERA_LOGIN_FAILURES_BEFORE_BACKOFF: '5' } });
    await signUp(s, 'victim@example.com', PASSWORD);
  });
  afterAll(async () => s?.close());

  it('10 wrong passwords for one account from one IP → 429 with a growing Retry-After; a fresh IP still gets its own attempts', async () => {
    const statuses: number[] = [];
    const retryAfter: number[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await http(s.url, 'POST', '/v1/login', { json: { email: 'Victim@Example.com ', password: `wrong-${i}` }, headers: from('203.0.113.10') });
      statuses.push(r.status);
      if (r.status === 429) {
        expect(r.body.code).toBe('rate_limited');
        expect(r.headers.get('ratelimit-limit')).toBeTruthy();
        retryAfter.push(Number(r.headers.get('retry-after')));
      }
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.at(-1)).toBe(429);
    expect(retryAfter.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < retryAfter.length; i++) expect(retryAfter[i]).toBeGreaterThan(retryAfter[i - 1]);
    // The victim (another address) is not locked out by the attacker's failures.
    const fresh = await http(s.url, 'POST', '/v1/login', { json: { email: 'victim@example.com', password: PASSWORD }, headers: from('198.51.100.7') });
    expect(fresh.status).toBe(200);
  });

  it('an untrusted peer cannot change its rate-limit identity with X-Forwarded-For', async () => {
    const direct = await startServer({ env: { TESSERA_LOGIN_FAILURES_BEFORE_BACKOFF: '3' } }); // no trusted proxy
    try {
      await signUp(direct, 'spoof@example.com', PASSWORD);
      const codes: number[] = [];
      for (let i = 0; i < 6; i++) {
        const r = await http(direct.url, 'POST', '/v1/login', { json: { email: 'spoof@example.com', password: 'nope nope nope' }, headers: { 'x-forwarded-for': `192.0.2.${i + 1}` } });
        codes.push(r.status);
      }
      expect(codes).toContain(429);
    } finally {
      await direct.close();
    }
  });

  it('stuffing: wrong logins across 200 accounts from one IP → 429', async () => {
    let limited = 0;
    for (let i = 0; i < 200; i++) {
      const r = await http(s.url, 'POST', '/v1/login', { json: { email: `user${i}@example.com`, password: 'Summer2024!' }, headers: from('203.0.113.99') });
      if (r.status === 429) limited++;
      else expect(r.status).toBe(401);
    }
    expect(limited).toBeGreaterThan(0);
  });
});

describe('impossible travel over HTTP (real SMTP)', () => {
  let s: TestServer;
  let smtp: SmtpSink;
  const clock = new FakeClock(Date.UTC(2026, 10, 27, 9, 0, 0));
  beforeAll(async () => {
    smtp = await startSmtpSink();
    s = await startServer({ clock, env: { TESSERA_TRUST_PROXY: 'loopback', TESSERA_SMTP_URL: smtp.url } });
  });
  afterAll(async () => {
    await s?.close();
    await smtp?.close();
  });

  const signIn = async (email: string, ip: string) => {
    const r = await http(s.url, 'POST', '/v1/login', { json: { email, password: PASSWORD }, headers: from(ip) });
    return r;
  };
  const refresh = (rt: string, ip: string) => http(s.url, 'POST', '/v1/token', { json: { grant_type: 'refresh_token', refresh_token: rt }, headers: from(ip) });

  it('London, then Sydney 10 minutes later: refused, revoked, reset required, event, mail; the reset link restores access', async () => {
    await signUp(s, 'traveller@example.com', PASSWORD, { smtp });
    const login = await signIn('traveller@example.com', LONDON);
    expect(login.status).toBe(200);
    clock.advance(10 * 60_000);
    const r = await refresh(login.body.refresh_token, SYDNEY);
    expect(r.status).toBe(401);
    expect(r.body.code).toBe('session_revoked');
    expect((await http(s.url, 'GET', '/v1/me', { headers: { authorization: `Bearer ${login.body.access_token}` } })).status).toBe(401);

    const again = await signIn('traveller@example.com', LONDON);
    expect(again.status).toBe(403);
    expect(again.body.code).toBe('password_reset_required');
    const wrong = await http(s.url, 'POST', '/v1/login', { json: { email: 'traveller@example.com', password: 'not my password' }, headers: from(LONDON) });
    expect(wrong.status).toBe(401); // the reset-required state is revealed only after a correct password

    const alert = await smtp.waitFor((m) => m.to.includes('traveller@example.com') && /Security alert/.test(m.raw));
    expect(mailText(alert.raw)).toMatch(/Sydney/);

    const events = await s.t.events.list({ userId: (await s.t.store.getUserByEmail('traveller@example.com'))!.id });
    const travel = events.find((e) => e.type === 'impossible_travel');
    expect(travel?.data).toMatchObject({ from: { city: 'London' }, to: { city: 'Sydney' } });

    expect((await http(s.url, 'POST', '/v1/password/forgot', { json: { email: 'traveller@example.com' }, headers: from(LONDON) })).status).toBe(202);
    const resetMail = await smtp.waitFor((m) => m.to.includes('traveller@example.com') && /reset-password\?token=/.test(mailText(m.raw)));
    const token = decodeURIComponent(/reset-password\?token=([A-Za-z0-9._%-]+)/.exec(mailText(resetMail.raw))![1]);
    const reset = await http(s.url, 'POST', '/v1/password/reset', { json: { token, new_password: 'a brand new passphrase' }, headers: from(LONDON) });
    expect(reset.status).toBe(204);
    expect((await http(s.url, 'POST', '/v1/password/reset', { json: { token, new_password: 'another new passphrase' } })).status).toBe(400);
    const back = await http(s.url, 'POST', '/v1/login', { json: { email: 'traveller@example.com', password: 'a brand new passphrase' }, headers: from(LONDON) });
    expect(back.status).toBe(200);
  });

  it('London → Paris a minute later is allowed; London → Tokyo two days later is allowed', async () => {
    await signUp(s, 'commuter@example.com', PASSWORD, { smtp });
    const login = await signIn('commuter@example.com', LONDON);
    clock.advance(60_000);
    const paris = await refresh(login.body.refresh_token, PARIS);
    expect(paris.status).toBe(200);
    clock.advance(2 * 86_400_000);
    const tokyo = await refresh(paris.body.refresh_token, TOKYO);
    expect(tokyo.status).toBe(200);
  });
});

describe('forgot-password does not enumerate accounts', () => {
  // A separate server process, as in production: the client's clock must not run on the server's event loop.
  let server: ServerProcess;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tessera-forgot-'));
    server = await spawnServer({ TESSERA_DATA_DIR: dir, TESSERA_LOGIN_LIMIT_PER_IP: '100000', TESSERA_RATE_LIMIT_PER_SECOND: '10000' });
    await signUp(server, 'known@example.com', PASSWORD);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('same status, same body, median times within 20%', async () => {
    const time = async (email: string) => {
      const t0 = process.hrtime.bigint();
      const r = await http(server.url, 'POST', '/v1/password/forgot', { json: { email } });
      return { ms: Number(process.hrtime.bigint() - t0) / 1e6, r };
    };
    const known: number[] = [];
    const unknown: number[] = [];
    let bodies = new Set<string>();
    for (let i = 0; i < 130; i++) {
      // alternate the order, so neither kind always runs right after the other's background work
      const [a, b] = i % 2 === 0
        ? [await time('known@example.com'), await time(`nobody${i}@example.com`)]
        : [await time(`nobody${i}@example.com`), await time('known@example.com')].reverse() as [Awaited<ReturnType<typeof time>>, Awaited<ReturnType<typeof time>>];
      expect(a.r.status).toBe(202);
      expect(b.r.status).toBe(202);
      bodies = new Set([...bodies, JSON.stringify(a.r.body), JSON.stringify(b.r.body)]);
      if (i >= 10) {
        known.push(a.ms);
        unknown.push(b.ms);
      }
    }
    expect(bodies.size).toBe(1);
    const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    // Each unknown request against the known one run right beside it: a neighbour's burst on this shared
    // machine then moves both sides of a pair, not one median. A real difference (an unknown address
    // skipping work a known one does) shows in every pair.
    const ratio = med(unknown.map((u, i) => u / known[i]));
    process.stdout.write(`forgot-password timing: unknown/known ${ratio.toFixed(3)} (medians ${med(unknown).toFixed(2)} / ${med(known).toFixed(2)} ms)\n`);
    expect(ratio).toBeGreaterThan(0.8);
    expect(ratio).toBeLessThan(1.2);
  });
});
