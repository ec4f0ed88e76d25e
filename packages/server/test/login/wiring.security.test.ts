/**
 * Security checks are wired by construction: a sign-in or refresh service cannot be built without its
 * guard, risk check or second factor, and the services the server builds run each of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountService, type AccountDeps, type AttemptGuard } from '../../src/core/accounts.js';
import { LoginCompletion } from '../../src/core/login/complete.js';
import { FakeClock } from '../../src/lib/clock.js';
import { SessionService, type SessionDeps } from '../../src/core/sessions.js';
import { http, startServer, type TestServer } from '../support/server.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';
import { signUp } from '../support/users.js';

const PASSWORD = 'correct horse battery staple';
const LONDON = '81.2.69.160';
const SYDNEY = '1.1.1.1';
const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
const from = (ip: string) => ({ 'x-forwarded-for': ip, 'user-agent': UA });
const CFG = { passwordMinLength: 8, issuer: 'http://localhost', resetTtlSec: 1800, requireVerifiedEmail: true };

/**
 * Never called: each line below must fail to type-check (`tsc --noEmit` runs over the tests and fails on an
 * unused `@ts-expect-error`), which proves the hook is a required constructor argument. A runtime test of
 * "cannot construct" is meaningless in TypeScript; the runtime test below shows the other half: a service
 * forced together without its guard (as plain JavaScript could) refuses to sign anyone in.
 */
export function missingHooksDoNotCompile(
  noGuard: Omit<AccountDeps, 'guard'>,
  noRiskCheck: Omit<AccountDeps, 'loginCheck'>,
  noSecondFactor: Omit<AccountDeps, 'secondFactor'>,
  noRefreshGuard: Omit<SessionDeps, 'refreshGuard'>,
): void {
  // @ts-expect-error the brute-force guard is required
  new AccountService(noGuard, CFG);
  // @ts-expect-error the risk engine's sign-in check is required
  new AccountService(noRiskCheck, CFG);
  // @ts-expect-error the second factor is required
  new AccountService(noSecondFactor, CFG);
  // @ts-expect-error the risk engine's refresh check is required
  new SessionService(noRefreshGuard, { accessTtlSec: 300, refreshTtlSec: 3600, idleTtlSec: 3600, graceSec: 0, locationClaim: false });
}

describe('services are wired by construction', () => {
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

  it('the type checker refuses a service without its hooks (see missingHooksDoNotCompile)', () => {
    expect(typeof missingHooksDoNotCompile).toBe('function');
  });

  it('attack: a service forced together without its guard fails closed — no unguarded sign-in', async () => {
    await s.t.accounts.register({ email: 'unguarded@example.com', password: PASSWORD });
    const t = s.t;
    const deps: AccountDeps = {
      users: t.store,
      resets: t.store,
      hasher: t.hasher,
      events: t.events,
      mailer: t.mailer,
      clock: t.clock,
      sessions: t.sessions,
      guard: undefined as unknown as AttemptGuard,
      loginCheck: async () => undefined,
      secondFactor: t.mfa.login,
      completion: new LoginCompletion(t.sessions, t.events, t.clock),
      approvals: t.approvals,
      verification: t.verification,
      reclaim: { reclaim: async () => undefined },
      defer: () => undefined,
    };
    const unguarded = new AccountService(deps, CFG);
    const ctx = { ip: '203.0.113.7', userAgent: UA, geo: null };
    await expect(unguarded.login({ email: 'unguarded@example.com', password: PASSWORD, ctx, transport: 'bearer' })).rejects.toThrow(TypeError);
    const user = await t.accounts.findUser('unguarded@example.com');
    expect(await t.sessions.listLive(user!.id)).toEqual([]);
  });

  it('attack: the risk check runs on a password sign-in — London, then Sydney 10 minutes later is refused and signed out', async () => {
    await signUp(s, 'jetset@example.com', PASSWORD, { smtp });
    const first = await http(s.url, 'POST', '/v1/login', { json: { email: 'jetset@example.com', password: PASSWORD }, headers: from(LONDON) });
    expect(first.status).toBe(200);
    clock.advance(10 * 60_000);
    const second = await http(s.url, 'POST', '/v1/login', { json: { email: 'jetset@example.com', password: PASSWORD }, headers: from(SYDNEY) });
    expect(second.body.code).toBe('session_revoked');
    expect(second.body.access_token).toBeUndefined();
    expect((await http(s.url, 'GET', '/v1/me', { headers: { authorization: `Bearer ${first.body.access_token}` } })).status).toBe(401);
    const user = await s.t.accounts.findUser('jetset@example.com');
    expect(user?.passwordResetRequired).toBe(true);
    await smtp.waitFor((m) => m.to.includes('jetset@example.com') && /Security alert/.test(m.raw));
  });
});
