import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { PasswordHasher, checkPasswordPolicy, normalizeEmail } from '../../src/core/passwords.js';
import { Semaphore } from '../../src/lib/semaphore.js';
import { http, startServer, type TestServer } from '../support/server.js';
import { signUp } from '../support/users.js';

describe('bounded argon2 concurrency', () => {
  it('a semaphore runs at most `limit` tasks, queues the rest in order, refuses none, and frees a slot on failure', async () => {
    const sem = new Semaphore(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const task = (i: number) => async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      order.push(i);
      if (i === 1) throw new Error('boom');
      return i;
    };
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => sem.run(task(i))));
    expect(peak).toBe(2);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(7);
    expect(order.slice(2)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(sem.stats()).toEqual({ active: 0, waiting: 0 });
  });

  it('the hasher runs at most `concurrency` argon2 jobs at once; the others wait and all succeed', async () => {
    const h = new PasswordHasher({ memoryCost: 19456, timeCost: 2, parallelism: 1 }, { concurrency: 2 });
    const stored = await h.hash('correct horse battery staple');
    const all = Promise.all(Array.from({ length: 6 }, () => h.verify(stored, 'correct horse battery staple')));
    expect(h.load()).toEqual({ active: 2, waiting: 4 });
    expect(await all).toEqual(Array(6).fill(true));
    expect(h.load()).toEqual({ active: 0, waiting: 0 });
  });
});

describe('password hashing and policy', () => {
  it('argon2id with at least m=19 MiB, t=2, p=1; weaker parameters are refused', async () => {
    expect(() => new PasswordHasher({ memoryCost: 4096, timeCost: 2, parallelism: 1 })).toThrow(TypeError);
    expect(() => new PasswordHasher({ memoryCost: 19456, timeCost: 1, parallelism: 1 })).toThrow(TypeError);
    const h = new PasswordHasher({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
    const stored = await h.hash('correct horse battery staple');
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await h.verify(stored, 'correct horse battery staple')).toBe(true);
    expect(await h.verify(stored, 'wrong')).toBe(false);
    expect(await h.verify('not a hash', 'x')).toBe(false);
    expect(h.needsRehash(stored)).toBe(false);
    expect(h.needsRehash(stored.replace('t=2', 't=3'))).toBe(true);
  });

  it('emails are trimmed, NFKC-normalised and lower-cased', () => {
    expect(normalizeEmail('  Ａda@Example.COM ')).toBe('ada@example.com');
  });

  const detail = (fn: () => void): string => {
    try {
      fn();
      return 'accepted';
    } catch (err) {
      return (err as { detail?: string }).detail ?? 'no detail';
    }
  };

  it('NIST SP 800-63B-4: length, no composition rules, common passwords and the email refused', () => {
    expect(detail(() => checkPasswordPolicy('short', 8))).toMatch(/at least 8/);
    expect(detail(() => checkPasswordPolicy('iloveyou', 8))).toMatch(/too common/);
    expect(detail(() => checkPasswordPolicy('zzzzzzzzzzz', 8))).toMatch(/too common/);
    expect(detail(() => checkPasswordPolicy('ada@example.com', 8, { email: 'ada@example.com' }))).toMatch(/email/);
    expect(() => checkPasswordPolicy('all lower case words here', 8)).not.toThrow();
    expect(detail(() => checkPasswordPolicy('é'.repeat(128), 8))).toMatch(/too common/); // one repeated character
    // 128 characters are allowed (a passphrase: a repeated pattern would now fail the strength estimate)
    expect(() => checkPasswordPolicy('correct horse battery staple '.repeat(5).slice(0, 128), 8)).not.toThrow();
    expect(() => checkPasswordPolicy('x'.repeat(15), 15)).toThrow(); // repeated, but also exercises min 15
    expect(() => checkPasswordPolicy('fifteen chars!!', 15)).not.toThrow();
  });
});

describe('sessions: rehash on login, idle and absolute expiry', () => {
  let s: TestServer;
  const clock = new FakeClock(Date.now());
  beforeAll(async () => {
    s = await startServer({ clock, env: { TESSERA_SESSION_IDLE_TTL: '3600', TESSERA_REFRESH_TTL: '86400' } });
  });
  afterAll(async () => s?.close());

  it('a hash with old parameters is upgraded on the next successful login', async () => {
    await signUp(s, 'old@example.com', 'correct horse battery staple');
    const user = (await s.t.store.getUserByEmail('old@example.com'))!;
    const weaker = await new PasswordHasher({ memoryCost: 19456, timeCost: 3, parallelism: 1 }).hash('correct horse battery staple');
    await s.t.store.setPasswordHash(user.id, weaker);
    expect((await http(s.url, 'POST', '/v1/login', { json: { email: 'old@example.com', password: 'correct horse battery staple' } })).status).toBe(200);
    const after = (await s.t.store.getUserById(user.id))!.passwordHash;
    expect(after).not.toBe(weaker);
    expect(after).toMatch(/m=19456,t=2,p=1/);
  });

  it('an idle session and a session past its absolute lifetime cannot refresh', async () => {
    await signUp(s, 'idle@example.com', 'correct horse battery staple');
    const login = async () => (await http(s.url, 'POST', '/v1/login', { json: { email: 'idle@example.com', password: 'correct horse battery staple' } })).body;
    const refresh = (rt: string) => http(s.url, 'POST', '/v1/token', { json: { grant_type: 'refresh_token', refresh_token: rt } });

    const idle = await login();
    clock.advance(3601 * 1000);
    expect((await refresh(idle.refresh_token)).body.code).toBe('invalid_grant');

    let active = await login();
    for (let i = 0; i < 30; i++) {
      clock.advance(3500 * 1000); // used within the idle window every time…
      const r = await refresh(active.refresh_token);
      if (r.status !== 200) {
        expect(r.body.code).toBe('invalid_grant');
        expect(i).toBe(24); // …but never beyond 24 h (25 × 3500 s > 86400 s)
        return;
      }
      active = r.body;
    }
    expect.unreachable('the absolute lifetime was not enforced');
  });
});
