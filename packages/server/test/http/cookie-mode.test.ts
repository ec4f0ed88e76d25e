import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, dbUnavailable, startServer, type TestServer } from '../support/server.js';
import { signUp } from '../support/users.js';

const PASSWORD = 'correct horse battery staple';

interface Cookie {
  name: string;
  value: string;
  attrs: Map<string, string | true>;
}
function parseSetCookie(h: Headers): Cookie[] {
  return h.getSetCookie().map((line) => {
    const [pair, ...rest] = line.split(';').map((x) => x.trim());
    const eq = pair.indexOf('=');
    const attrs = new Map<string, string | true>();
    for (const a of rest) {
      const i = a.indexOf('=');
      attrs.set((i > 0 ? a.slice(0, i) : a).toLowerCase(), i > 0 ? a.slice(i + 1) : true);
    }
    return { name: pair.slice(0, eq), value: decodeURIComponent(pair.slice(eq + 1)), attrs };
  });
}

for (const db of DB_KINDS) {
  describe.skipIf(dbUnavailable(db))(`cookie transport (${db})`, () => {
    let s: TestServer;
    const jar = new Map<string, string>();
    const cookieHeader = (names: string[]) => names.filter((n) => jar.has(n)).map((n) => `${n}=${encodeURIComponent(jar.get(n)!)}`).join('; ');
    const absorb = (res: Response) => {
      for (const c of parseSetCookie(res.headers)) {
        if (c.value === '' || c.attrs.get('max-age') === '0') jar.delete(c.name);
        else jar.set(c.name, c.value);
      }
    };
    beforeAll(async () => {
      s = await startServer({ db });
      await signUp(s, 'carol@example.com', PASSWORD);
    });
    afterAll(async () => s?.close());

    it('login sets exactly the contract cookies, and no token appears in any body', async () => {
      const foreign = await fetch(`${s.url}/v1/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
        body: JSON.stringify({ email: 'carol@example.com', password: PASSWORD, transport: 'cookie' }),
      });
      expect(foreign.status).toBe(403);
      expect(((await foreign.json()) as { code: string }).code).toBe('csrf_failed');

      const res = await fetch(`${s.url}/v1/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: new URL(s.url).origin.replace('127.0.0.1', 'localhost') },
        body: JSON.stringify({ email: 'carol@example.com', password: PASSWORD, transport: 'cookie' }),
      });
      expect(res.status).toBe(200);
      const text = await res.text();
      const body = JSON.parse(text) as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(['expires_in', 'session_id']);
      const cookies = parseSetCookie(res.headers);
      const byName = new Map(cookies.map((c) => [c.name, c]));
      const at = byName.get('__Host-tessera_at')!;
      const rt = byName.get('__Secure-tessera_rt')!;
      const csrf = byName.get('__Host-tessera_csrf')!;
      for (const c of [at, rt, csrf]) expect(c).toBeDefined();
      expect(text).not.toContain(at.value);
      expect(text).not.toContain(rt.value);
      expect([...at.attrs.keys()].sort()).toEqual(['httponly', 'max-age', 'path', 'samesite', 'secure']);
      expect(at.attrs.get('path')).toBe('/');
      expect(at.attrs.get('samesite')).toBe('Lax');
      expect(rt.attrs.get('httponly')).toBe(true);
      expect(rt.attrs.get('secure')).toBe(true);
      expect(rt.attrs.get('samesite')).toBe('Strict');
      expect(rt.attrs.get('path')).toBe('/v1/token');
      expect(csrf.attrs.has('httponly')).toBe(false);
      expect(csrf.attrs.get('secure')).toBe(true);
      expect(csrf.attrs.get('samesite')).toBe('Strict');
      expect(csrf.attrs.get('path')).toBe('/');
      expect(at.attrs.has('domain') || rt.attrs.has('domain') || csrf.attrs.has('domain')).toBe(false);
      absorb(res);
    });

    it('reads with the cookie; unsafe methods need the CSRF header and an allowed Origin', async () => {
      const me = await fetch(`${s.url}/v1/me`, { headers: { cookie: cookieHeader(['__Host-tessera_at']) } });
      expect(me.status).toBe(200);

      const allCookies = cookieHeader(['__Host-tessera_at', '__Host-tessera_csrf']);
      const noHeader = await fetch(`${s.url}/v1/sessions?keep=current`, { method: 'DELETE', headers: { cookie: allCookies } });
      expect(noHeader.status).toBe(403);
      expect(((await noHeader.json()) as { code: string }).code).toBe('csrf_failed');

      const foreign = await fetch(`${s.url}/v1/sessions?keep=current`, {
        method: 'DELETE',
        headers: { cookie: allCookies, 'x-csrf-token': jar.get('__Host-tessera_csrf')!, origin: 'https://evil.example' },
      });
      expect(foreign.status).toBe(403);

      // A planted pair (same value in cookie and header) that is not signed for this session is refused.
      const planted = 'AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';
      const forged = await fetch(`${s.url}/v1/sessions?keep=current`, {
        method: 'DELETE',
        headers: { cookie: `${cookieHeader(['__Host-tessera_at'])}; __Host-tessera_csrf=${planted}`, 'x-csrf-token': planted },
      });
      expect(forged.status).toBe(403);

      const ok = await fetch(`${s.url}/v1/sessions?keep=current`, { method: 'DELETE', headers: { cookie: allCookies, 'x-csrf-token': jar.get('__Host-tessera_csrf')! } });
      expect(ok.status).toBe(204);
    });

    it('refreshes from the refresh cookie with the CSRF header, then logs out and clears cookies', async () => {
      const refreshCookies = cookieHeader(['__Secure-tessera_rt', '__Host-tessera_csrf']);
      const noCsrf = await fetch(`${s.url}/v1/token`, { method: 'POST', headers: { cookie: refreshCookies, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token' });
      expect(noCsrf.status).toBe(403);

      const oldAt = jar.get('__Host-tessera_at');
      const res = await fetch(`${s.url}/v1/token`, {
        method: 'POST',
        headers: { cookie: refreshCookies, 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': jar.get('__Host-tessera_csrf')! },
        body: 'grant_type=refresh_token',
      });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(Object.keys(JSON.parse(text) as object).sort()).toEqual(['expires_in', 'session_id']);
      absorb(res);
      expect(jar.get('__Host-tessera_at')).not.toBe(oldAt);
      expect(text).not.toContain(jar.get('__Secure-tessera_rt')!);

      const out = await fetch(`${s.url}/v1/logout`, {
        method: 'POST',
        headers: { cookie: cookieHeader(['__Host-tessera_at', '__Host-tessera_csrf']), 'x-csrf-token': jar.get('__Host-tessera_csrf')! },
      });
      expect(out.status).toBe(204);
      const cleared = parseSetCookie(out.headers).map((c) => c.name).sort();
      // (and the readable `ath` cookie of a key-bound session, cleared whether or not this one was bound)
      expect(cleared).toEqual(['__Host-tessera_at', '__Host-tessera_csrf', '__Host-tessera_dpop', '__Secure-tessera_rt']);
      const after = await fetch(`${s.url}/v1/me`, { headers: { cookie: `__Host-tessera_at=${oldAt}` } });
      expect(after.status).toBe(401);
    });
  });
}
