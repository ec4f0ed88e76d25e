/**
 * Security review, item 2: the revocation push cannot fail open. Real servers, real Redis, the real SDK.
 * Pub/sub is only a wake-up: with every message dropped, a message from another deployment on the same
 * Redis, or a forged one, what reaches the SDK is exactly this deployment's database feed, within 1 s.
 */
import { randomUUID } from 'node:crypto';
import { createVerifier, isTesseraTokenError, type TesseraVerifier } from '@tessera/sdk';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomToken, sha256 } from '../../packages/server/src/core/crypto.js';
import { redisPrefix } from '../../packages/server/src/state/connect.js';
import { http, startServer, type TestServer } from '../../packages/server/test/support/server.js';
import { REDIS_URL, hasRedis } from '../../packages/server/test/support/services.js';
import { signUp } from '../../packages/server/test/support/users.js';

const PASSWORD = 'correct horse battery staple';
const run = randomUUID().slice(0, 8);

async function withClient(s: TestServer): Promise<{ clientId: string; clientSecret: string }> {
  const clientSecret = randomToken();
  const clientId = `rs_${randomUUID().slice(0, 8)}`;
  await s.t.store.createClient({ id: clientId, name: 'feed test', secretHash: sha256(clientSecret), createdAt: Date.now() });
  return { clientId, clientSecret };
}

async function signIn(s: TestServer, email: string): Promise<{ token: string; sid: string }> {
  await signUp(s, email, PASSWORD);
  const l = await http(s.url, 'POST', '/v1/login', { json: { email, password: PASSWORD } });
  expect(l.status).toBe(200);
  return { token: l.body.access_token as string, sid: l.body.session_id as string };
}

const logout = async (s: TestServer, token: string) =>
  expect((await http(s.url, 'POST', '/v1/logout', { headers: { authorization: `Bearer ${token}` } })).status).toBe(204);

/** Milliseconds until the verifier refuses `token` as revoked (fails the test past `limitMs`). */
async function msUntilRefused(v: TesseraVerifier, token: string, limitMs = 1000, whileStale = false): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const err = await v.verify(token).then(() => undefined, (e: unknown) => e);
    const stale = whileStale && isTesseraTokenError(err) && err.code === 'revocation_feed_stale';
    if (err !== undefined && !stale) {
      expect(isTesseraTokenError(err) && err.code).toBe('token_revoked');
      return Date.now() - t0;
    }
    if (Date.now() - t0 > limitMs) throw new Error(`token still accepted after ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const urlOf = (input: string | URL | Request): string => (typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);

/** Drops every pub/sub message this node publishes (the wake-up), as a lossy Redis link would. */
function dropPublishes(s: TestServer): () => number {
  let dropped = 0;
  s.t.state.publish = async () => {
    dropped++;
  };
  return () => dropped;
}

describe('the Redis prefix', () => {
  it('is derived from the issuer unless TESSERA_REDIS_PREFIX names one', () => {
    const a = redisPrefix({ issuer: 'https://auth.a.example' });
    expect(a).toBe(redisPrefix({ issuer: 'https://auth.a.example' }));
    expect(a).not.toBe(redisPrefix({ issuer: 'https://auth.b.example' }));
    expect(a).toMatch(/^tessera:[A-Za-z0-9_-]{16}:$/);
    expect(redisPrefix({ issuer: 'https://auth.a.example', TESSERA_REDIS_PREFIX: 'acme' })).toBe('acme:');
  });
});

describe.skipIf(!hasRedis)('a revocation feed that cannot fail open (real Redis)', () => {
  let a: TestServer;
  let b: TestServer;
  let verifiers: TesseraVerifier[] = [];
  const newVerifier = async (s: TestServer, extra: Partial<Parameters<typeof createVerifier>[0]> = {}) => {
    const v = createVerifier({ issuer: s.t.config.issuer, ...(await withClient(s)), ...extra });
    verifiers.push(v);
    await v.ready();
    return v;
  };
  beforeAll(async () => {
    a = await startServer({ env: { TESSERA_REDIS_URL: REDIS_URL, TESSERA_REDIS_PREFIX: `tessera-test:${run}:a` } });
    b = await startServer({ env: { TESSERA_REDIS_URL: REDIS_URL, TESSERA_REDIS_PREFIX: `tessera-test:${run}:b` } });
  });
  afterEach(async () => {
    for (const v of verifiers) await v.close();
    verifiers = [];
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('with every pub/sub message dropped, every revocation still reaches the SDK within 1 s', async () => {
    const v = await newVerifier(a);
    const sessions = [];
    for (let i = 0; i < 6; i++) sessions.push(await signIn(a, `dropped-${i}-${run}@example.com`));
    for (const s of sessions) await expect(v.verify(s.token)).resolves.toMatchObject({ sid: s.sid });
    const dropped = dropPublishes(a);
    for (const s of sessions) {
      await logout(a, s.token);
      expect(await msUntilRefused(v, s.token)).toBeLessThan(1000);
    }
    expect(dropped()).toBeGreaterThanOrEqual(sessions.length);
    expect(v.isHealthy()).toBe(true);
  });

  it('two deployments on one Redis never see each other\'s items, and forged messages deliver nothing', async () => {
    const v = await newVerifier(a);
    const seen: string[] = [];
    const { clientId, clientSecret } = await withClient(a);
    const ac = new AbortController();
    const res = await fetch(`${a.url}/v1/revocations/stream`, {
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` },
      signal: ac.signal,
    });
    const reading = (async () => {
      const reader = res.body!.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        seen.push(new TextDecoder().decode(value));
      }
    })().catch(() => undefined);

    // Deployment B revokes many sessions: its cursors pass A's, on the same Redis.
    const foreign = [];
    for (let i = 0; i < 4; i++) foreign.push(await signIn(b, `foreign-${i}-${run}@example.com`));
    for (const f of foreign) await logout(b, f.token);
    // Someone publishes a forged item with a huge cursor on A's own channel.
    const redis = new Redis(REDIS_URL);
    try {
      const forged = { cursor: 999_999_999, sid: 'forged-sid', revoked_at: new Date().toISOString(), until: new Date(Date.now() + 600_000).toISOString() };
      await redis.publish(`${redisPrefix(a.t.config)}revocations`, JSON.stringify(forged));
    } finally {
      redis.disconnect();
    }

    // A's own revocation still arrives (the old stream dropped it: at or below the foreign cursor it had sent).
    const own = await signIn(a, `own-${run}@example.com`);
    await expect(v.verify(own.token)).resolves.toBeTruthy();
    await logout(a, own.token);
    expect(await msUntilRefused(v, own.token)).toBeLessThan(1000);
    await new Promise((r) => setTimeout(r, 100));
    ac.abort();
    await reading;

    const text = seen.join('');
    expect(text).toContain(own.sid);
    for (const f of foreign) expect(text).not.toContain(f.sid);
    expect(text).not.toContain('forged-sid');
    expect(v.stats().feed?.cursor).toBe((await a.t.feed.since(0)).cursor);
  });

  it('a subscriber behind the head a heartbeat announces catches up with ?since=', async () => {
    const tail = a.app.revocationTail;
    const { pollMs, heartbeatMs } = tail;
    // This node's streams now push nothing (no wake-up, no poll): only the heartbeat's head can tell.
    tail.pollMs = 3_600_000;
    tail.heartbeatMs = 200;
    // a poll scheduled before the change still fires once at the old interval: let it pass first
    await new Promise((r) => setTimeout(r, pollMs + 100));
    const restorePublish = a.t.state.publish.bind(a.t.state);
    dropPublishes(a);
    try {
      const lists: string[] = [];
      const v = await newVerifier(a, {
        fetch: (input, init) => {
          const url = urlOf(input);
          if (url.includes('/v1/revocations?')) lists.push(url);
          return fetch(input, init);
        },
      });
      const s = await signIn(a, `behind-${run}@example.com`);
      await expect(v.verify(s.token)).resolves.toBeTruthy();
      const listsBefore = lists.length;
      await logout(a, s.token);
      expect(await msUntilRefused(v, s.token)).toBeLessThan(1000);
      expect(lists.length).toBeGreaterThan(listsBefore);
    } finally {
      tail.pollMs = pollMs;
      tail.heartbeatMs = heartbeatMs;
      a.t.state.publish = restorePublish;
    }
  });

  it('a subscriber that cannot catch up counts itself stale and fails closed', async () => {
    const tail = a.app.revocationTail;
    const { pollMs, heartbeatMs } = tail;
    tail.pollMs = 3_600_000;
    tail.heartbeatMs = 200;
    // a poll scheduled before the change still fires once at the old interval: let it pass first
    await new Promise((r) => setTimeout(r, pollMs + 100));
    const restorePublish = a.t.state.publish.bind(a.t.state);
    dropPublishes(a);
    let listsDown = false;
    try {
      const v = await newVerifier(a, {
        fetch: (input, init) => (listsDown && urlOf(input).includes('/v1/revocations?') ? Promise.reject(new Error('list unreachable')) : fetch(input, init)),
      });
      const s = await signIn(a, `stale-${run}@example.com`);
      await expect(v.verify(s.token)).resolves.toBeTruthy();
      listsDown = true;
      await logout(a, s.token);
      const t0 = Date.now();
      let err: unknown;
      while (err === undefined && Date.now() - t0 < 5000) {
        err = await v.verify(s.token).then(() => undefined, (e: unknown) => e);
        if (err === undefined) await new Promise((r) => setTimeout(r, 20));
      }
      expect(isTesseraTokenError(err) && err.code).toBe('revocation_feed_stale');
      expect(v.isHealthy()).toBe(false);
      // Once the list answers again the feed catches up, and the revoked token is refused as revoked.
      listsDown = false;
      expect(await msUntilRefused(v, s.token, 10_000, true)).toBeLessThan(10_000);
    } finally {
      tail.pollMs = pollMs;
      tail.heartbeatMs = heartbeatMs;
      a.t.state.publish = restorePublish;
    }
  });
});
