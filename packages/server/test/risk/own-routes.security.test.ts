/**
 * Security review, item 15 (last part): an access token used on the server's own routes from a place
 * impossible to reach since the session was last seen is refused at once — not only at the next refresh —
 * with the consequences of a refresh from there: every session revoked (and in the feed), a password reset
 * required, an impossible_travel event, a mail to the user.
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { http, startServer, type TestServer } from '../support/server.js';
import { signUp } from '../support/users.js';

const PASSWORD = 'correct horse battery staple';
const LONDON = '81.2.69.160';
const LONDON_2 = '81.2.69.161';
const SYDNEY = '1.1.1.1';
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

describe("the server's own routes apply the impossible-travel rule to access tokens", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ env: { TESSERA_TRUST_PROXY: 'loopback' } });
  });
  afterAll(async () => s?.close());

  const signIn = async (email: string, ip = LONDON) => {
    if (!(await s.t.store.getUserByEmail(email))) await signUp(s, email, PASSWORD);
    const user = await s.t.store.getUserByEmail(email);
    const l = await http(s.url, 'POST', '/v1/login', { json: { email, password: PASSWORD }, headers: { 'x-forwarded-for': ip, 'user-agent': FIREFOX_LINUX } });
    expect(l.status).toBe(200);
    return { token: l.body.access_token as string, refresh: l.body.refresh_token as string, sid: l.body.session_id as string, userId: user!.id };
  };
  const me = (token: string, ip?: string) =>
    http(s.url, 'GET', '/v1/me', { headers: { authorization: `Bearer ${token}`, 'user-agent': FIREFOX_LINUX, ...(ip ? { 'x-forwarded-for': ip } : {}) } });
  const refresh = (token: string, ip = LONDON) =>
    http(s.url, 'POST', '/v1/token', { form: { grant_type: 'refresh_token', refresh_token: token }, headers: { 'x-forwarded-for': ip, 'user-agent': FIREFOX_LINUX } });
  const mails = async (): Promise<string> => {
    const dir = path.join(s.dataDir, 'outbox');
    const names = await readdir(dir).catch(() => [] as string[]);
    return (await Promise.all(names.filter((n) => n.endsWith('.json')).map((n) => readFile(path.join(dir, n), 'utf8')))).join('\n');
  };

  it('a token signed in from London and used from Sydney moments later: 401 session_revoked, and the refresh token is dead too', async () => {
    const email = `stolen-${randomUUID()}@example.com`;
    const victim = await signIn(email);
    const other = await signIn(email);
    expect((await me(victim.token, LONDON)).status).toBe(200);
    const cursor = await s.t.store.latestRevocationCursor();

    const stolen = await me(victim.token, SYDNEY);
    expect(stolen.status).toBe(401);
    expect(stolen.body.code).toBe('session_revoked');
    expect(stolen.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);

    // the owner's own copies are dead as well: the session and every other one of the account
    expect((await me(victim.token, LONDON)).status).toBe(401);
    expect((await me(other.token, LONDON)).status).toBe(401);
    for (const r of [await refresh(victim.refresh), await refresh(other.refresh)]) expect(r.body.code).toBe('invalid_grant');
    const feed = await s.t.feed.since(cursor);
    expect(feed.items.map((i) => i.sid)).toEqual(expect.arrayContaining([victim.sid, other.sid]));

    expect((await s.t.store.getUserById(victim.userId))?.passwordResetRequired).toBe(true);
    const login = await http(s.url, 'POST', '/v1/login', { json: { email, password: PASSWORD }, headers: { 'x-forwarded-for': LONDON } });
    expect(login.body.code).toBe('password_reset_required');
    const ev = (await s.t.events.list({ type: 'impossible_travel' })).find((e) => e.sessionId === victim.sid);
    expect(ev).toMatchObject({ userId: victim.userId, ip: SYDNEY });
    expect(ev?.data).toMatchObject({ from: { city: 'London', country: 'GB' }, to: { country: 'AU' } });
    await vi.waitFor(async () => expect(await mails()).toContain(email), { timeout: 5000 });
  });

  it('compares with the last geolocated request, not the last address: an unlocated hop in between changes nothing', async () => {
    const v = await signIn(`hop-${randomUUID()}@example.com`);
    expect((await me(v.token, '10.0.0.7')).status).toBe(200);
    expect((await me(v.token)).status).toBe(200); // loopback, no X-Forwarded-For: not located either
    expect((await me(v.token, SYDNEY)).body.code).toBe('session_revoked');
  });

  it('an earlier request on these routes is history too: London → (ok) London again → Sydney is refused', async () => {
    // signed in from an unlocated address: only the own-route request in London says where the session is
    const v = await signIn(`history-${randomUUID()}@example.com`, '10.0.0.8');
    expect((await me(v.token, LONDON)).status).toBe(200);
    expect((await me(v.token, SYDNEY)).body.code).toBe('session_revoked');
  });

  it('ordinary use stays untouched: a nearby address is allowed, and the same address is never located again', async () => {
    const v = await signIn(`nearby-${randomUUID()}@example.com`);
    expect((await me(v.token, LONDON_2)).status).toBe(200);
    const locate = vi.spyOn(s.t.geo, 'locate');
    try {
      for (let i = 0; i < 5; i++) expect((await me(v.token, LONDON_2)).status).toBe(200);
      // the hot path is a map lookup: no geolocation, no comparison while the address is unchanged
      expect(locate).not.toHaveBeenCalled();
    } finally {
      locate.mockRestore();
    }
    expect((await refresh(v.refresh, LONDON_2)).status).toBe(200);
  });
});
