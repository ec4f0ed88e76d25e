import { TOTP, URI } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { DB_KINDS, dbUnavailable, http, startServer, type TestServer } from '../support/server.js';
import { signUp as createAccount } from '../support/users.js';

const PASSWORD = 'correct horse battery staple';
const STEP = 30_000;

interface Ctx {
  s: TestServer;
  clock: FakeClock;
}

const bearer = (at: string) => ({ authorization: `Bearer ${at}` });

async function signUp(c: Ctx, email: string): Promise<string> {
  await createAccount(c.s, email, PASSWORD);
  const l = await http(c.s.url, 'POST', '/v1/login', { json: { email, password: PASSWORD } });
  expect(l.status).toBe(200);
  return l.body.access_token as string;
}

/** enrols TOTP for a freshly signed-in user; returns the authenticator and the recovery codes */
async function enrolTotp(c: Ctx, at: string): Promise<{ totp: TOTP; recoveryCodes: string[] }> {
  const e = await http(c.s.url, 'POST', '/v1/mfa/totp', { headers: bearer(at) });
  expect(e.status).toBe(200);
  const totp = URI.parse(e.body.otpauth_uri as string) as TOTP;
  const v = await http(c.s.url, 'POST', '/v1/mfa/totp/verify', { json: { code: totp.generate({ timestamp: c.clock.now() }) }, headers: bearer(at) });
  expect(v.status).toBe(200);
  c.clock.advance(STEP); // the enrolment code's step is used up
  return { totp, recoveryCodes: v.body.recovery_codes as string[] };
}

async function passwordStep(c: Ctx, email: string, headers: Record<string, string> = {}): Promise<string> {
  const l = await http(c.s.url, 'POST', '/v1/login', { json: { email, password: PASSWORD }, headers });
  expect(l.status).toBe(200);
  expect(l.body.mfa_required).toBe(true);
  return l.body.mfa_token as string;
}

const mfa = (c: Ctx, mfaToken: string, method: string, code: string) => http(c.s.url, 'POST', '/v1/login/mfa', { json: { mfa_token: mfaToken, method, code } });

for (const db of DB_KINDS) {
  describe.skipIf(dbUnavailable(db))(`TOTP sign-in over HTTP (${db})`, () => {
    const c = { clock: new FakeClock() } as Ctx;
    beforeAll(async () => {
      c.s = await startServer({ db, clock: c.clock });
    });
    afterAll(async () => c.s?.close());

    it('enrols an authenticator app, then signs in with password + TOTP; a code is accepted once', async () => {
      const at = await signUp(c, 'totp@example.com');
      const e = await http(c.s.url, 'POST', '/v1/mfa/totp', { headers: bearer(at) });
      expect(e.status).toBe(200);
      expect(e.headers.get('cache-control')).toBe('no-store');
      expect(e.body.secret).toMatch(/^[A-Z2-7]{32}$/);
      const uri = URI.parse(e.body.otpauth_uri as string) as TOTP;
      expect(uri).toBeInstanceOf(TOTP);
      expect(uri.issuer).toBe('Tessera');
      expect(uri.label).toBe('totp@example.com');
      expect(uri.secret.base32).toBe(e.body.secret);
      expect(e.body.qr_svg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
      // the secret is sealed at rest, never stored in the clear
      const me0 = await http(c.s.url, 'GET', '/v1/me', { headers: bearer(at) });
      const row = await c.s.t.store.getTotp(me0.body.id as string);
      expect(row?.secretSealed).not.toContain(e.body.secret);

      const wrong = await http(c.s.url, 'POST', '/v1/mfa/totp/verify', { json: { code: otherCode(uri, c.clock.now()) }, headers: bearer(at) });
      expect(wrong.status).toBe(401);
      expect(wrong.body.code).toBe('invalid_code');
      const ok = await http(c.s.url, 'POST', '/v1/mfa/totp/verify', { json: { code: uri.generate({ timestamp: c.clock.now() }) }, headers: bearer(at) });
      expect(ok.status).toBe(200);
      expect(ok.body.recovery_codes).toHaveLength(10);
      for (const rc of ok.body.recovery_codes as string[]) expect(rc).toMatch(/^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);
      expect(new Set(ok.body.recovery_codes).size).toBe(10);

      const me = await http(c.s.url, 'GET', '/v1/me', { headers: bearer(at) });
      expect(me.body.mfa).toMatchObject({ totp: true, webauthn: false, recovery_codes_left: 10 });

      c.clock.advance(STEP);
      const l = await http(c.s.url, 'POST', '/v1/login', { json: { email: 'totp@example.com', password: PASSWORD } });
      expect(l.status).toBe(200);
      expect(l.body).toEqual({ mfa_required: true, mfa_token: expect.any(String), methods: ['totp', 'recovery_code'] });
      const code = uri.generate({ timestamp: c.clock.now() });
      const done = await mfa(c, l.body.mfa_token, 'totp', code);
      expect(done.status).toBe(200);
      expect(done.body).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String), refresh_token: expect.any(String) });
      const sessions = await http(c.s.url, 'GET', '/v1/sessions', { headers: bearer(done.body.access_token) });
      expect(sessions.body.find((x: { current: boolean }) => x.current).amr).toEqual(['pwd', 'otp', 'mfa']);

      // The same code again, on a fresh mfa_token, within its 30 s step: a replay.
      const again = await mfa(c, await passwordStep(c, 'totp@example.com'), 'totp', code);
      expect(again.status).toBe(401);
      expect(again.body.code).toBe('invalid_code');

      const events = await http(c.s.url, 'GET', '/v1/events', { headers: bearer(done.body.access_token) });
      const types = (events.body as Array<{ type: string; data: Record<string, unknown> }>).map((x) => x.type);
      expect(types).toContain('mfa_enrolled');
      expect(types).toContain('mfa_failed');
    });

    it('accepts a code one step old but refuses one from 3 steps ago', async () => {
      const at = await signUp(c, 'window@example.com');
      const { totp } = await enrolTotp(c, at);
      c.clock.advance(10 * STEP);
      const old = await mfa(c, await passwordStep(c, 'window@example.com'), 'totp', totp.generate({ timestamp: c.clock.now() - 3 * STEP }));
      expect(old.status).toBe(401);
      expect(old.body.code).toBe('invalid_code');
      const slightlyOld = await mfa(c, await passwordStep(c, 'window@example.com'), 'totp', totp.generate({ timestamp: c.clock.now() - STEP }));
      expect(slightlyOld.status).toBe(200);
      // a step before the last accepted one is refused too, though inside the window
      c.clock.advance(STEP);
      const earlier = await mfa(c, await passwordStep(c, 'window@example.com'), 'totp', totp.generate({ timestamp: c.clock.now() - 2 * STEP }));
      expect(earlier.status).toBe(401);
    });

    it('a recovery code works once, typed in any case and without dashes', async () => {
      const at = await signUp(c, 'recovery@example.com');
      const { recoveryCodes } = await enrolTotp(c, at);
      const code = recoveryCodes[3];
      const ok = await mfa(c, await passwordStep(c, 'recovery@example.com'), 'recovery_code', code.replace(/-/g, ' ').toUpperCase());
      expect(ok.status).toBe(200);
      const me = await http(c.s.url, 'GET', '/v1/me', { headers: bearer(ok.body.access_token) });
      expect(me.body.mfa.recovery_codes_left).toBe(9);
      const again = await mfa(c, await passwordStep(c, 'recovery@example.com'), 'recovery_code', code);
      expect(again.status).toBe(401);
      expect(again.body.code).toBe('invalid_code');
      const events = await http(c.s.url, 'GET', '/v1/events', { headers: bearer(ok.body.access_token) });
      expect(events.body.find((x: { type: string }) => x.type === 'recovery_code_used').data).toEqual({ left: 9 });
    });

    it('an mfa_token is not an access token, is single-use and expires after 5 minutes', async () => {
      const at = await signUp(c, 'token@example.com');
      const { totp } = await enrolTotp(c, at);
      const token = await passwordStep(c, 'token@example.com');
      const me = await http(c.s.url, 'GET', '/v1/me', { headers: bearer(token) });
      expect(me.status).toBe(401);
      expect(me.body.code).toBe('invalid_token');
      expect((await mfa(c, token, 'totp', totp.generate({ timestamp: c.clock.now() }))).status).toBe(200);
      c.clock.advance(STEP);
      const reused = await mfa(c, token, 'totp', totp.generate({ timestamp: c.clock.now() }));
      expect(reused.status).toBe(401);
      expect(reused.body.code).toBe('invalid_mfa_token');

      const late = await passwordStep(c, 'token@example.com');
      c.clock.advance(5 * 60_000 + 1);
      const expired = await mfa(c, late, 'totp', totp.generate({ timestamp: c.clock.now() }));
      expect(expired.status).toBe(401);
      expect(expired.body.code).toBe('invalid_mfa_token');
      const forged = await mfa(c, `${late.split('.')[0]}.${'A'.repeat(43)}`, 'totp', totp.generate({ timestamp: c.clock.now() }));
      expect(forged.body.code).toBe('invalid_mfa_token');
    });

    it('MFA management needs a sign-in within 5 minutes', async () => {
      await createAccount(c.s, 'stale@example.com', PASSWORD);
      const l = await http(c.s.url, 'POST', '/v1/login', { json: { email: 'stale@example.com', password: PASSWORD } });
      c.clock.advance(6 * 60_000);
      // the access token has expired by now; a refresh keeps the session (and its old auth_time)
      const r = await http(c.s.url, 'POST', '/v1/token', { json: { grant_type: 'refresh_token', refresh_token: l.body.refresh_token } });
      expect(r.status).toBe(200);
      const h = bearer(r.body.access_token);
      expect((await http(c.s.url, 'GET', '/v1/me', { headers: h })).status).toBe(200);
      for (const [method, path] of [['POST', '/v1/mfa/totp'], ['POST', '/v1/mfa/webauthn/options'], ['POST', '/v1/mfa/recovery-codes'], ['DELETE', '/v1/mfa/totp'], ['GET', '/v1/mfa/webauthn']] as const) {
        const res = await http(c.s.url, method, path, { headers: h });
        expect(res.status, `${method} ${path}`).toBe(403);
        expect(res.body.code).toBe('reauthentication_required');
      }
      // and none of it without a session at all
      expect((await http(c.s.url, 'POST', '/v1/mfa/totp')).status).toBe(401);
    });

    it('regenerating recovery codes replaces the set; removing TOTP turns MFA off', async () => {
      const at = await signUp(c, 'regen@example.com');
      const { recoveryCodes } = await enrolTotp(c, at);
      const regen = await http(c.s.url, 'POST', '/v1/mfa/recovery-codes', { headers: bearer(at) });
      expect(regen.status).toBe(200);
      expect(regen.body.recovery_codes).toHaveLength(10);
      expect(regen.body.recovery_codes).not.toContain(recoveryCodes[0]);
      expect((await mfa(c, await passwordStep(c, 'regen@example.com'), 'recovery_code', recoveryCodes[0])).status).toBe(401);
      const ok = await mfa(c, await passwordStep(c, 'regen@example.com'), 'recovery_code', regen.body.recovery_codes[0]);
      expect(ok.status).toBe(200);

      expect((await http(c.s.url, 'DELETE', '/v1/mfa/totp', { headers: bearer(at) })).status).toBe(204);
      expect((await http(c.s.url, 'DELETE', '/v1/mfa/totp', { headers: bearer(at) })).status).toBe(404);
      const me = await http(c.s.url, 'GET', '/v1/me', { headers: bearer(at) });
      expect(me.body.mfa).toMatchObject({ totp: false, recovery_codes_left: 0 });
      const plain = await http(c.s.url, 'POST', '/v1/login', { json: { email: 'regen@example.com', password: PASSWORD } });
      expect(plain.body.access_token).toEqual(expect.any(String));
      const types = (await http(c.s.url, 'GET', '/v1/events', { headers: bearer(at) })).body.map((x: { type: string }) => x.type);
      expect(types).toEqual(expect.arrayContaining(['recovery_codes_regenerated', 'mfa_removed']));
      // no factor, no recovery codes to regenerate
      expect((await http(c.s.url, 'POST', '/v1/mfa/recovery-codes', { headers: bearer(at) })).status).toBe(409);
    });

    it('a cookie-transport sign-in finishes in cookies, never with a token in the body', async () => {
      const at = await signUp(c, 'cookie-mfa@example.com');
      const { totp } = await enrolTotp(c, at);
      const l = await http(c.s.url, 'POST', '/v1/login', { json: { email: 'cookie-mfa@example.com', password: PASSWORD, transport: 'cookie' } });
      expect(l.body.mfa_required).toBe(true);
      expect(l.headers.getSetCookie()).toEqual([]);
      const done = await mfa(c, l.body.mfa_token, 'totp', totp.generate({ timestamp: c.clock.now() }));
      expect(done.status).toBe(200);
      expect(done.body).toEqual({ expires_in: expect.any(Number), session_id: expect.any(String) });
      expect(done.headers.getSetCookie().map((x) => x.split('=')[0])).toEqual(expect.arrayContaining(['__Host-tessera_at', '__Secure-tessera_rt', '__Host-tessera_csrf']));
    });
  });
}

/** a 6-digit code that is not valid anywhere in the ±1 window at `now` */
function otherCode(totp: TOTP, now: number): string {
  const valid = new Set([-1, 0, 1].map((d) => totp.generate({ timestamp: now + d * STEP })));
  for (let i = 0; ; i++) {
    const code = String(i).padStart(6, '0');
    if (!valid.has(code)) return code;
  }
}
