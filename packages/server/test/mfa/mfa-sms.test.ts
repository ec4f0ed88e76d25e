import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import { TOTP, URI } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { MFA_TOKEN_MAX_ATTEMPTS, SMS_OTP_SENDS_PER_TOKEN } from '../../src/core/mfa/login.js';
import { SMS_ENROL_MAX_ATTEMPTS, SMS_SENDS_PER_ACCOUNT_PER_HOUR, SMS_SENDS_PER_NUMBER_PER_DAY } from '../../src/core/mfa/phone.js';
import type { SqlStore } from '../../src/store/connect.js';
import { DB_KINDS, dbUnavailable, http, startServer, type DbKind, type TestServer } from '../support/server.js';
import { signUp as createAccount } from '../support/users.js';

const PASSWORD = 'correct horse battery staple';
const bearer = (at: string) => ({ authorization: `Bearer ${at}` });

interface Sms {
  to: string;
  text: string;
}

/** A test's view of one server: HTTP helpers plus the development sender's outbox. */
class Harness {
  readonly clock = new FakeClock();
  s!: TestServer;
  private readonly seen = new Set<string>();

  async start(db: DbKind, env: Record<string, string> = { TESSERA_MFA_SMS_OTP: 'true' }): Promise<void> {
    this.s = await startServer({ db, clock: this.clock, env });
  }

  /** SMS written since the last call, oldest first */
  async newSms(): Promise<Sms[]> {
    const dir = path.join(this.s.dataDir, 'outbox');
    const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.startsWith('sms-') && !this.seen.has(f)).sort();
    const out: Sms[] = [];
    for (const f of files) {
      this.seen.add(f);
      out.push(JSON.parse(await readFile(path.join(dir, f), 'utf8')) as Sms);
    }
    return out;
  }

  /** the code of the one SMS sent since the last look, to `to` */
  async code(to: string): Promise<string> {
    const sms = await this.newSms();
    expect(sms).toHaveLength(1);
    expect(sms[0].to).toBe(to);
    return /\b(\d{6})\b/.exec(sms[0].text)![1];
  }

  req(method: string, p: string, opts: { json?: unknown; headers?: Record<string, string> } = {}) {
    return http(this.s.url, method, p, opts);
  }

  async signUp(email: string): Promise<string> {
    await createAccount(this.s, email, PASSWORD);
    const l = await this.req('POST', '/v1/login', { json: { email, password: PASSWORD } });
    expect(l.status).toBe(200);
    return l.body.access_token as string;
  }

  async enrolPhone(at: string, phone: string): Promise<string[] | undefined> {
    expect((await this.req('POST', '/v1/mfa/sms', { json: { phone }, headers: bearer(at) })).status).toBe(202);
    const v = await this.req('POST', '/v1/mfa/sms/verify', { json: { code: await this.code(phone) }, headers: bearer(at) });
    expect(v.status).toBe(200);
    return v.body.recovery_codes as string[] | undefined;
  }

  async mfaToken(email: string): Promise<{ token: string; methods: string[] }> {
    const l = await this.req('POST', '/v1/login', { json: { email, password: PASSWORD } });
    expect(l.body.mfa_required).toBe(true);
    return { token: l.body.mfa_token as string, methods: l.body.methods as string[] };
  }

  sendSms(token: string) {
    return this.req('POST', '/v1/login/mfa/sms', { json: { mfa_token: token } });
  }

  submit(token: string, code: string, method = 'sms_otp') {
    return this.req('POST', '/v1/login/mfa', { json: { mfa_token: token, method, code } });
  }

  async userId(at: string): Promise<string> {
    return (await this.req('GET', '/v1/me', { headers: bearer(at) })).body.id as string;
  }
}

const wrong = (code: string, i = 0) => String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0');

for (const db of DB_KINDS) {
  describe.skipIf(dbUnavailable(db))(`SMS second factor over HTTP (${db})`, () => {
    const h = new Harness();
    beforeAll(() => h.start(db));
    afterAll(async () => h.s?.close());

    it('enrols a phone with the texted code, signs in with password + SMS code (amr pwd sms mfa), removes it', async () => {
      const at = await h.signUp('sms@example.com');
      const start = await h.req('POST', '/v1/mfa/sms', { json: { phone: '+44 7700 900-123' }, headers: bearer(at) });
      expect(start.status).toBe(202);
      expect(start.headers.get('cache-control')).toBe('no-store');
      expect(start.body).toEqual({ status: 'sent', phone: '+44••••••123', expires_in: 600 });
      const enrolCode = await h.code('+447700900123');

      const bad = await h.req('POST', '/v1/mfa/sms/verify', { json: { code: wrong(enrolCode) }, headers: bearer(at) });
      expect(bad.status).toBe(401);
      expect(bad.body.code).toBe('invalid_code');
      const ok = await h.req('POST', '/v1/mfa/sms/verify', { json: { code: enrolCode }, headers: bearer(at) });
      expect(ok.status).toBe(200);
      expect(ok.body.phone).toBe('+44••••••123');
      expect(ok.body.recovery_codes).toHaveLength(10);
      // single-use, and a confirmed phone is never silently replaced
      expect((await h.req('POST', '/v1/mfa/sms/verify', { json: { code: enrolCode }, headers: bearer(at) })).status).toBe(409);
      expect((await h.req('POST', '/v1/mfa/sms', { json: { phone: '+15555550100' }, headers: bearer(at) })).status).toBe(409);
      expect(await h.newSms()).toEqual([]);

      const { token, methods } = await h.mfaToken('sms@example.com');
      expect(methods).toEqual(['sms_otp', 'recovery_code']);
      const send = await h.sendSms(token);
      expect(send.status).toBe(202);
      expect(send.body).toEqual({ status: 'sent', expires_in: 300 });
      const code = await h.code('+447700900123');
      // only a salted hash of the code is on the token's row
      const row = await h.s.t.store.getMfaChallenge(token.split('.')[0]);
      expect(row!.challenge).toMatch(/^sms_otp:\d+:[A-Za-z0-9_-]{43}$/);
      expect(row!.challenge).not.toContain(code);

      const done = await h.submit(token, code);
      expect(done.status).toBe(200);
      const sessions = await h.req('GET', '/v1/sessions', { headers: bearer(done.body.access_token) });
      expect(sessions.body.find((x: { current: boolean }) => x.current).amr).toEqual(['pwd', 'sms', 'mfa']);

      // the same code twice: the token is spent, and on a fresh token the code means nothing
      expect((await h.submit(token, code)).body.code).toBe('invalid_mfa_token');
      const again = await h.submit((await h.mfaToken('sms@example.com')).token, code);
      expect(again.status).toBe(401);
      expect(again.body.code).toBe('invalid_code');

      const types = (await h.req('GET', '/v1/events', { headers: bearer(at) })).body.map((x: { type: string; data: { method?: string } }) => `${x.type}:${x.data.method}`);
      expect(types).toEqual(expect.arrayContaining(['mfa_enrolled:sms', 'mfa_failed:sms']));

      expect((await h.req('DELETE', '/v1/mfa/sms', { headers: bearer(at) })).status).toBe(204);
      expect((await h.req('DELETE', '/v1/mfa/sms', { headers: bearer(at) })).status).toBe(404);
      const plain = await h.req('POST', '/v1/login', { json: { email: 'sms@example.com', password: PASSWORD } });
      expect(plain.body.access_token).toEqual(expect.any(String));
      expect((await h.req('GET', '/v1/me', { headers: bearer(at) })).body.mfa.recovery_codes_left).toBe(0);
    });

    it('the phone is not stored in the clear: sealed with the user id as AAD, plus a masked form', async () => {
      const at = await h.signUp('sealed@example.com');
      await h.enrolPhone(at, '+33612345678');
      const id = await h.userId(at);
      const raw = await sql<Record<string, unknown>>`select * from mfa_sms where user_id = ${id}`.execute((h.s.t.store as SqlStore).db.withoutPlugins());
      expect(raw.rows).toHaveLength(1);
      const dump = JSON.stringify(raw.rows[0]);
      expect(dump).not.toContain('612345678');
      expect(raw.rows[0].phone_masked).toBe('+33••••••678');
      const sealed = raw.rows[0].phone_sealed as string;
      expect(h.s.t.box.open(sealed, id)).toBe('+33612345678');
      expect(() => h.s.t.box.open(sealed, 'another-user')).toThrow();
    });
  });
}

describe('SMS second factor: attacks and limits', () => {
  const h = new Harness();
  beforeAll(() => h.start('sqlite'));
  afterAll(async () => h.s?.close());

  it('a wrong code counts an attempt: 5 per mfa_token, then even the right code is refused', async () => {
    expect(MFA_TOKEN_MAX_ATTEMPTS).toBe(5);
    await h.enrolPhone(await h.signUp('guess@example.com'), '+447700900201');
    const { token } = await h.mfaToken('guess@example.com');
    expect((await h.sendSms(token)).status).toBe(202);
    const code = await h.code('+447700900201');
    const first = await h.submit(token, wrong(code));
    expect(first.body.code).toBe('invalid_code');
    expect(first.body.detail).toMatch(/4 attempt\(s\) left/);
    expect((await h.s.t.store.getMfaChallenge(token.split('.')[0]))!.failures).toBe(1);
    for (let i = 1; i < 5; i++) expect((await h.submit(token, wrong(code, i))).body.code).toBe('invalid_code');
    const dead = await h.submit(token, code);
    expect(dead.status).toBe(401);
    expect(dead.body.code).toBe('invalid_mfa_token');
  });

  it('a new code replaces the old one, and a texted code is no e-mail code', async () => {
    await h.enrolPhone(await h.signUp('replace@example.com'), '+447700900202');
    const { token } = await h.mfaToken('replace@example.com');
    await h.sendSms(token);
    const old = await h.code('+447700900202');
    await h.sendSms(token);
    const fresh = await h.code('+447700900202');
    if (old !== fresh) expect((await h.submit(token, old)).body.code).toBe('invalid_code');
    h.s.t.mfa.login.options.emailOtp = true;
    try {
      expect((await h.submit(token, fresh, 'email_otp')).body.code).toBe('invalid_code');
    } finally {
      h.s.t.mfa.login.options.emailOtp = false;
    }
    expect((await h.submit(token, fresh)).status).toBe(200);
  });

  it('a texted sign-in code dies with its 5-minute mfa_token', async () => {
    await h.enrolPhone(await h.signUp('late@example.com'), '+447700900203');
    const { token } = await h.mfaToken('late@example.com');
    await h.sendSms(token);
    const code = await h.code('+447700900203');
    h.clock.advance(5 * 60_000 + 1);
    expect((await h.submit(token, code)).body.code).toBe('invalid_mfa_token');
  });

  it('sends are limited: 3 per mfa_token, 5 per account per hour (enrolment included)', async () => {
    expect([SMS_OTP_SENDS_PER_TOKEN, SMS_SENDS_PER_ACCOUNT_PER_HOUR, SMS_SENDS_PER_NUMBER_PER_DAY]).toEqual([3, 5, 10]);
    await h.enrolPhone(await h.signUp('pump@example.com'), '+447700900204'); // send 1 of 5
    const a = (await h.mfaToken('pump@example.com')).token;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await h.sendSms(a)).status);
    expect(statuses).toEqual([202, 202, 202, 429]);
    const b = (await h.mfaToken('pump@example.com')).token;
    expect((await h.sendSms(b)).status).toBe(202);
    const limited = await h.sendSms(b);
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // a refused send texts nothing
    expect(await h.newSms()).toHaveLength(4);
  });

  it('SMS pumping: one number gets 10 texts a day, however many accounts ask', async () => {
    const target = '+881234567890';
    const accounts = await Promise.all(['pump1', 'pump2', 'pump3'].map((n) => h.signUp(`${n}@example.com`)));
    const enrol = (at: string, phone = target) => h.req('POST', '/v1/mfa/sms', { json: { phone }, headers: bearer(at) });
    const statuses: number[] = [];
    for (const at of accounts.slice(0, 2)) for (let i = 0; i < 6; i++) statuses.push((await enrol(at)).status);
    // the 6th of each account hits the account budget first
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429, 202, 202, 202, 202, 202, 429]);
    expect((await enrol(accounts[2])).status).toBe(429);
    expect((await enrol(accounts[2], '+881234567891')).status).toBe(202);
    const sent = await h.newSms();
    expect(sent.filter((x) => x.to === target)).toHaveLength(10);
  });

  it('an enrolment code allows 5 guesses, then a new code is needed; it expires after 10 minutes', async () => {
    expect(SMS_ENROL_MAX_ATTEMPTS).toBe(5);
    const at = await h.signUp('enrol-guess@example.com');
    const verify = (code: string) => h.req('POST', '/v1/mfa/sms/verify', { json: { code }, headers: bearer(at) });
    expect((await verify('123456')).status).toBe(409); // nothing started
    await h.req('POST', '/v1/mfa/sms', { json: { phone: '+447700900206' }, headers: bearer(at) });
    const code = await h.code('+447700900206');
    for (let i = 0; i < 5; i++) expect((await verify(wrong(code, i))).body.code).toBe('invalid_code');
    const spent = await verify(code);
    expect(spent.body.code).toBe('invalid_code');
    expect(spent.body.detail).toMatch(/request a new one/);

    await h.req('POST', '/v1/mfa/sms', { json: { phone: '+447700900206' }, headers: bearer(at) });
    const second = await h.code('+447700900206');
    h.clock.advance(4 * 60_000); // the sign-in is still recent enough (5 min), the code is not expired yet
    expect((await verify(second)).status).toBe(200);

    const at2 = await h.signUp('enrol-late@example.com');
    await h.req('POST', '/v1/mfa/sms', { json: { phone: '+447700900207' }, headers: bearer(at2) });
    const late = await h.code('+447700900207');
    h.clock.advance(10 * 60_000);
    // a fresh sign-in passes the step-up; the code it presents has expired
    const at3 = (await h.req('POST', '/v1/login', { json: { email: 'enrol-late@example.com', password: PASSWORD } })).body.access_token as string;
    const expired = await h.req('POST', '/v1/mfa/sms/verify', { json: { code: late }, headers: bearer(at3) });
    expect(expired.status).toBe(401);
    expect(expired.body.code).toBe('invalid_code');
    expect(await h.s.t.mfa.phone.isEnrolled(await h.userId(at3))).toBe(false);
  });

  it('enrolment needs a sign-in within 5 minutes, and a session at all', async () => {
    await createAccount(h.s, 'stale-sms@example.com', PASSWORD);
    const l = await h.req('POST', '/v1/login', { json: { email: 'stale-sms@example.com', password: PASSWORD } });
    h.clock.advance(6 * 60_000);
    const r = await h.req('POST', '/v1/token', { json: { grant_type: 'refresh_token', refresh_token: l.body.refresh_token } });
    expect(r.status).toBe(200);
    const headers = bearer(r.body.access_token);
    for (const [method, p, json] of [
      ['POST', '/v1/mfa/sms', { phone: '+447700900208' }],
      ['POST', '/v1/mfa/sms/verify', { code: '123456' }],
      ['DELETE', '/v1/mfa/sms', undefined],
    ] as const) {
      const res = await h.req(method, p, { json, headers });
      expect(res.status, `${method} ${p}`).toBe(403);
      expect(res.body.code).toBe('reauthentication_required');
      expect((await h.req(method, p, { json })).status).toBe(401);
    }
    expect(await h.newSms()).toEqual([]);
  });

  it('refuses numbers that are not E.164 and unknown fields, texting nothing', async () => {
    const at = await h.signUp('badphone@example.com');
    for (const phone of ['07700 900123', '447700900123', '+0447700900123', '+12345', '+4477009001234567', 'call me', '+44 7700 900123 ext 5']) {
      const res = await h.req('POST', '/v1/mfa/sms', { json: { phone }, headers: bearer(at) });
      expect(res.status, phone).toBe(400);
      expect(res.body.code).toBe('invalid_request');
    }
    expect((await h.req('POST', '/v1/mfa/sms', { json: { phone: '+447700900209', to: '+1' }, headers: bearer(at) })).status).toBe(400);
    expect(await h.newSms()).toEqual([]);
  });

  it('switched off at run time: the method disappears, the endpoints answer 400, the number can still be erased', async () => {
    const at = await h.signUp('off@example.com');
    const e = await h.req('POST', '/v1/mfa/totp', { headers: bearer(at) });
    const totp = URI.parse(e.body.otpauth_uri as string) as TOTP;
    expect((await h.req('POST', '/v1/mfa/totp/verify', { json: { code: totp.generate({ timestamp: h.clock.now() }) }, headers: bearer(at) })).status).toBe(200);
    await h.enrolPhone(at, '+447700900210');
    const { token } = await h.mfaToken('off@example.com');
    await h.sendSms(token);
    const code = await h.code('+447700900210');

    h.s.t.mfa.login.options.smsOtp = false;
    try {
      expect((await h.mfaToken('off@example.com')).methods).toEqual(['totp', 'recovery_code']);
      for (const res of [
        await h.sendSms(token),
        await h.submit(token, code),
        await h.req('POST', '/v1/mfa/sms', { json: { phone: '+447700900211' }, headers: bearer(at) }),
        await h.req('POST', '/v1/mfa/sms/verify', { json: { code: '123456' }, headers: bearer(at) }),
      ]) {
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('invalid_request');
      }
      expect((await h.s.t.store.getMfaChallenge(token.split('.')[0]))!.failures).toBe(0);
      expect((await h.req('DELETE', '/v1/mfa/sms', { headers: bearer(at) })).status).toBe(204);
      // TOTP is still a factor: the recovery codes stay
      expect((await h.req('GET', '/v1/me', { headers: bearer(at) })).body.mfa.recovery_codes_left).toBe(10);
    } finally {
      h.s.t.mfa.login.options.smsOtp = true;
    }
    expect(await h.newSms()).toEqual([]);
  });
});

describe('SMS second factor: off by default', () => {
  const h = new Harness();
  beforeAll(() => h.start('sqlite', {}));
  afterAll(async () => h.s?.close());

  it('TESSERA_MFA_SMS_OTP defaults to false: enrolment and sign-in endpoints answer 400 invalid_request', async () => {
    expect(h.s.t.config.TESSERA_MFA_SMS_OTP).toBe(false);
    const at = await h.signUp('default@example.com');
    for (const res of [
      await h.req('POST', '/v1/mfa/sms', { json: { phone: '+447700900212' }, headers: bearer(at) }),
      await h.req('POST', '/v1/mfa/sms/verify', { json: { code: '123456' }, headers: bearer(at) }),
    ]) {
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('invalid_request');
    }
    const e = await h.req('POST', '/v1/mfa/totp', { headers: bearer(at) });
    const totp = URI.parse(e.body.otpauth_uri as string) as TOTP;
    await h.req('POST', '/v1/mfa/totp/verify', { json: { code: totp.generate({ timestamp: h.clock.now() }) }, headers: bearer(at) });
    const { token, methods } = await h.mfaToken('default@example.com');
    expect(methods).not.toContain('sms_otp');
    const send = await h.sendSms(token);
    expect(send.status).toBe(400);
    expect(send.body.code).toBe('invalid_request');
    expect((await h.submit(token, '123456')).body.code).toBe('invalid_request');
    expect(await h.newSms()).toEqual([]);
  });
});
