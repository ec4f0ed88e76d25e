/**
 * Security review, item 1: one set of resource-server credentials must not be able to sign any user out
 * everywhere, force a reset, write into the security mail or probe which sessions exist.
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomToken, sha256 } from '../../src/core/crypto.js';
import { TokenService } from '../../src/core/tokens.js';
import { http, startServer, type TestServer } from '../support/server.js';
import { signUp } from '../support/users.js';

const PASSWORD = 'correct horse battery staple';
const LONDON = '81.2.69.160';
const LONDON_2 = '81.2.69.161';
const SYDNEY = '1.1.1.1';
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const CHROME_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';

describe('risk reports from resource servers', () => {
  let s: TestServer;
  const basic = new Map<string, string>();
  const client = async (id: string) => {
    const secret = randomToken();
    await s.t.store.createClient({ id, name: id, secretHash: sha256(secret), createdAt: Date.now() });
    basic.set(id, `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`);
  };
  beforeAll(async () => {
    s = await startServer({ env: { TESSERA_TRUST_PROXY: 'loopback', TESSERA_RISK_REPORTS_PER_MINUTE: '8' } });
    for (const id of ['rs_a', 'rs_b', 'rs_oracle', 'rs_limited', 'rs_other']) await client(id);
  });
  afterAll(async () => s?.close());

  const signIn = async (email: string, ip = LONDON, ua = FIREFOX_LINUX) => {
    if (!(await s.t.accounts.findUser(email))) await signUp(s, email, PASSWORD);
    const l = await http(s.url, 'POST', '/v1/login', { json: { email, password: PASSWORD }, headers: { 'x-forwarded-for': ip, 'user-agent': ua } });
    expect(l.status).toBe(200);
    return { token: l.body.access_token as string, sid: l.body.session_id as string };
  };
  const report = (json: unknown, clientId = 'rs_a') => http(s.url, 'POST', '/v1/risk/reports', { json, headers: { authorization: basic.get(clientId)! } });
  const live = async (token: string) => (await http(s.url, 'GET', '/v1/me', { headers: { authorization: `Bearer ${token}` } })).status === 200;
  const mails = async (): Promise<string> => {
    const dir = path.join(s.dataDir, 'outbox');
    const names = await readdir(dir).catch(() => [] as string[]);
    return (await Promise.all(names.filter((n) => n.endsWith('.json')).map((n) => readFile(path.join(dir, n), 'utf8')))).join('\n');
  };

  it('a bare session id (present in every token) is no longer enough', async () => {
    const v = await signIn(`sid-only-${randomUUID()}@example.com`);
    const r = await report({ sid: v.sid, ip: SYDNEY, user_agent: 'curl/8' });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('invalid_request');
    expect(await live(v.token)).toBe(true);
  });

  it('a forged, foreign-audience or garbage token answers 400 invalid_token and revokes nothing', async () => {
    const v = await signIn(`foreign-${randomUUID()}@example.com`);
    const [h, p] = v.token.split('.');
    const claims = JSON.parse(Buffer.from(p ?? '', 'base64url').toString()) as Record<string, unknown>;
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, exp: (claims.exp as number) + 3600 })).toString('base64url')}.${v.token.split('.')[2]}`;
    // Signed by this very server, but for another API's audience.
    const otherApi = new TokenService(s.t.keys, { issuer: s.t.config.issuer, audience: 'https://other-api.example', accessTtlSec: 300 });
    const foreign = (await otherApi.issueAccessToken({ sub: claims.sub as string, sid: v.sid, authTime: Date.now(), amr: ['pwd'], roles: [] })).token;
    for (const token of [forged, foreign, 'garbage', v.token.split('.').slice(0, 2).join('.')]) {
      const r = await report({ token, ip: SYDNEY });
      expect(r.status).toBe(400);
      expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(r.body).toMatchObject({ status: 400, code: 'invalid_token' });
    }
    expect(await live(v.token)).toBe(true);
  });

  it('free text as the address is refused, and nothing reported ever reaches a mail', async () => {
    const v = await signIn(`spam-${randomUUID()}@example.com`);
    const r = await report({ token: v.token, ip: 'IP 1.2.3.4 - call +1-800-555-0199 now', user_agent: 'Call +1-800-555-0199' });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('invalid_request');
    expect(await live(v.token)).toBe(true);
    // A valid address with a hostile agent: whatever mail follows carries neither.
    const w = await signIn(`spam2-${randomUUID()}@example.com`);
    expect((await report({ token: w.token, ip: SYDNEY, user_agent: 'Call +1-800-555-0199 now/1.0' })).status).toBe(202);
    await new Promise((r) => setTimeout(r, 200));
    const all = await mails();
    expect(all).toMatch(/Security alert/);
    expect(all).not.toContain('800-555');
    expect(all).not.toContain(SYDNEY);
  });

  it('a report with a different user agent signs out only the reported session: no sign-out everywhere, no reset', async () => {
    const email = `ua-${randomUUID()}@example.com`;
    const reported = await signIn(email);
    const other = await signIn(email, LONDON_2);
    const r = await report({ token: reported.token, ip: LONDON_2, user_agent: CHROME_WINDOWS });
    expect(r.status).toBe(202);
    expect(await live(reported.token)).toBe(false);
    expect(await live(other.token)).toBe(true);
    const again = await http(s.url, 'POST', '/v1/login', { json: { email, password: PASSWORD }, headers: { 'x-forwarded-for': LONDON } });
    expect(again.status).toBe(200);
    // The event names the client that reported.
    const events = await s.t.events.list({ type: 'session_revoked' });
    expect(events.find((e) => e.sessionId === reported.sid)?.data).toMatchObject({ via: 'risk_report', reported_by: 'rs_a' });
    expect((await s.t.events.list({ type: 'session_anomaly' })).some((e) => e.sessionId === reported.sid)).toBe(false);
  });

  it('account-wide action only when the server\'s own travel rule agrees; the event names the client', async () => {
    const email = `travel-${randomUUID()}@example.com`;
    const reported = await signIn(email);
    const other = await signIn(email);
    expect((await report({ token: reported.token, ip: SYDNEY }, 'rs_b')).status).toBe(202);
    expect(await live(reported.token)).toBe(false);
    expect(await live(other.token)).toBe(false);
    const login = await http(s.url, 'POST', '/v1/login', { json: { email, password: PASSWORD }, headers: { 'x-forwarded-for': LONDON } });
    expect(login.body.code).toBe('password_reset_required');
    const ev = (await s.t.events.list({ type: 'impossible_travel' })).find((e) => e.sessionId === reported.sid);
    expect(ev?.data).toMatchObject({ reported_by: 'rs_b' });
  });

  it('the same answer for a live, a revoked and a reported-again session (no oracle)', async () => {
    const v = await signIn(`oracle-${randomUUID()}@example.com`);
    const first = await report({ token: v.token, ip: LONDON_2 }, 'rs_oracle');
    const second = await report({ token: v.token, ip: LONDON_2 }, 'rs_oracle');
    const w = await signIn(`oracle2-${randomUUID()}@example.com`);
    await http(s.url, 'POST', '/v1/logout', { headers: { authorization: `Bearer ${w.token}` } });
    const revoked = await report({ token: w.token, ip: LONDON_2 }, 'rs_oracle');
    for (const r of [first, second, revoked]) {
      expect(r.status).toBe(202);
      expect(r.body).toEqual({ status: 'received' });
    }
  });

  it('reports are rate-limited per client', async () => {
    const v = await signIn(`limit-${randomUUID()}@example.com`);
    const codes: number[] = [];
    for (let i = 0; i < 10; i++) codes.push((await report({ token: v.token, ip: LONDON_2 }, 'rs_limited')).status);
    expect(codes.slice(0, 8).every((c) => c === 202)).toBe(true);
    expect(codes.slice(8)).toEqual([429, 429]);
    // Another client's budget is its own.
    expect((await report({ token: v.token, ip: LONDON_2 }, 'rs_other')).status).toBe(202);
  });
});
