import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { PasswordHasher, checkPasswordPolicy, normalizeEmail } from '../../src/core/passwords.js';
import { Argon2Pool, Argon2PoolError } from '../../src/lib/argon2-pool.js';
import { toTesseraError } from '../../src/http/problem.js';
import { http, startServer, type TestServer } from '../support/server.js';
import { signUp } from '../support/users.js';

describe('bounded argon2 concurrency', () => {
  const params = { memoryCost: 19456, timeCost: 2, parallelism: 1 };
  const options = { algorithm: 2, ...params };

  it('the hasher runs at most `concurrency` argon2 jobs at once; the others wait and all succeed', async () => {
    const h = new PasswordHasher(params, { concurrency: 2 });
    const stored = await h.hash('correct horse battery staple');
    const all = Promise.all(Array.from({ length: 6 }, () => h.verify(stored, 'correct horse battery staple')));
    expect(h.load()).toEqual({ active: 2, waiting: 4 });
    expect(await all).toEqual(Array(6).fill(true));
    expect(h.load()).toEqual({ active: 0, waiting: 0 });
  });

  it('a worker starts its next hash by itself: a busy event loop does not leave the core idle', async () => {
    const pool = new Argon2Pool(1);
    try {
      await pool.hash('warm', options);
      const t0 = performance.now();
      await pool.hash('timed', options);
      const hashMs = performance.now() - t0;
      const both = Promise.all([pool.hash('a', options), pool.hash('b', options)]);
      // the event loop is blocked for far longer than two hashes take
      const until = performance.now() + hashMs * 10 + 100;
      while (performance.now() < until);
      const t1 = performance.now();
      await both;
      // both were done during the block; had the second been handed over only when the first ended, it
      // would have started after the block and taken a whole hash from here
      expect(performance.now() - t1).toBeLessThan(hashMs / 2);
    } finally {
      await pool.close();
    }
  });

  it('when no worker thread can start, hashes are refused as a pool failure instead of waiting forever', async () => {
    // a source the Worker constructor throws on, as it does when the process may not start another thread
    const pool = new Argon2Pool(1, 42 as unknown as string);
    await expect(pool.hash('pw', options)).rejects.toThrow(/no argon2 worker could start/);
    expect(pool.load()).toEqual({ active: 0, waiting: 0 });
  });

  it('a malformed stored hash is refused without harming the worker; a wrong password is false', async () => {
    const pool = new Argon2Pool(1);
    try {
      await expect(pool.verify('not-a-hash', 'x')).rejects.toThrow();
      const stored = await pool.hash('pw', options);
      expect(await pool.verify(stored, 'pw')).toBe(true);
      expect(await pool.verify(stored, 'other')).toBe(false);
      const h = new PasswordHasher(params, { pool });
      expect(await h.verify('$argon2id$v=19$m=19456,t=2,p=1$bad', 'pw')).toBe(false);
    } finally {
      await pool.close();
    }
  });

  it('a worker that dies is replaced and its jobs run on the next; a job that kills it twice is refused as a pool failure', async () => {
    // the real worker, except that the password "die" ends its thread
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      const argon2 = require(workerData.argon2);
      parentPort.on('message', (m) => {
        if (m.password === 'die') process.exit(1);
        parentPort.postMessage({ id: m.id, value: argon2.hashSync(m.password, m.options) });
      });`;
    const pool = new Argon2Pool(1, source);
    try {
      // "fine" is held behind "die" by the same worker, and again by its replacement: it still runs
      const dies = pool.hash('die', options);
      const ok = pool.hash('fine', options);
      expect(pool.load()).toEqual({ active: 1, waiting: 1 });
      await expect(dies).rejects.toThrow(Argon2PoolError);
      expect(await ok).toMatch(/^\$argon2id\$/);
      // the pool still works after losing workers
      expect(await pool.hash('after', options)).toMatch(/^\$argon2id\$/);
      const h = new PasswordHasher(params, { pool });
      // not "wrong password" (a failed attempt against the account): the caller sees our own failure
      await expect(h.verify('$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g', 'die')).rejects.toThrow(Argon2PoolError);
    } finally {
      await pool.close();
    }
    const refused = await pool.hash('closed', options).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Argon2PoolError);
    // the node's own failure to hash answers 503 with Retry-After (a client retries), never a 500
    const te = toTesseraError(refused);
    expect([te.status, te.code, te.headers['Retry-After']]).toEqual([503, 'service_unavailable', expect.stringMatching(/^\d+$/)]);
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
