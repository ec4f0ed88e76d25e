import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVerifier } from '../src/index.js';
import type { TesseraVerifier, VerifierOptions } from '../src/index.js';
import { CLIENT_ID, CLIENT_SECRET, FakeIssuer, newKey, refusal, waitFor } from './support/issuer.js';

let issuer: FakeIssuer;
const open: TesseraVerifier[] = [];

function make(opts: Partial<VerifierOptions> = {}): TesseraVerifier {
  const v = createVerifier({ issuer: issuer.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, maxStalenessSec: 2, ...opts });
  open.push(v);
  return v;
}

beforeEach(async () => {
  issuer = await new FakeIssuer().start();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((v) => v.close()));
  await issuer.close();
});

/** Polls verify until it refuses with `code`; returns the elapsed milliseconds. */
async function msUntilRefused(v: TesseraVerifier, token: string, code: string): Promise<number> {
  const t0 = performance.now();
  await waitFor(async () => {
    try {
      await v.verify(token);
      return undefined;
    } catch (err) {
      return (err as { code?: string }).code === code ? true : undefined;
    }
  }, 3000, 5);
  return performance.now() - t0;
}

describe('cache', () => {
  it('verifies a token once, then serves hits from the cache', async () => {
    const v = make({ revocationFeed: 'off', clientId: undefined, clientSecret: undefined });
    const token = await issuer.sign(issuer.claims());
    for (let i = 0; i < 5; i++) expect((await v.verify(token)).sub).toBe('user-1');
    expect(v.stats().cache).toMatchObject({ size: 1, hits: 4, misses: 1 });
  });

  it('a cached token stops being accepted at exp (plus tolerance)', async () => {
    let t = Date.now();
    const v = make({ revocationFeed: 'off', clientId: undefined, clientSecret: undefined, now: () => t, clockToleranceSec: 5 });
    const nowSec = Math.floor(t / 1000);
    const token = await issuer.sign(issuer.claims({ iat: nowSec, exp: nowSec + 60 }));
    await v.verify(token);
    t += 66_000;
    expect(await refusal(v.verify(token))).toEqual({ code: 'invalid_token', reason: 'ERR_JWT_EXPIRED' });
  });

  it('once full, admits a new token only on its second sighting, so one-shot tokens cannot flush hot ones', async () => {
    const v = make({ revocationFeed: 'off', clientId: undefined, clientSecret: undefined, cacheSize: 3 });
    const hot = await Promise.all([1, 2, 3].map(() => issuer.sign(issuer.claims())));
    for (const t of hot) await v.verify(t);
    expect(v.stats().cache).toMatchObject({ size: 3, hits: 0, misses: 3 });
    // A flood of valid tokens, each used once: all verified, none cached, the hot ones still hits.
    for (let i = 0; i < 20; i++) expect((await v.verify(await issuer.sign(issuer.claims()))).sub).toBe('user-1');
    for (const t of hot) await v.verify(t);
    expect(v.stats().cache).toMatchObject({ size: 3, hits: 3, misses: 23 });
    // A token used again is admitted on its second sighting (evicting the least recently used) and hit after.
    const repeated = await issuer.sign(issuer.claims());
    await v.verify(repeated);
    await v.verify(repeated);
    await v.verify(repeated);
    expect(v.stats().cache).toMatchObject({ size: 3, hits: 4, misses: 25 });
    await v.verify(hot[0]);
    expect(v.stats().cache.misses).toBe(26);
  });

  it('checks with the algorithms it was created with, whatever the caller later does to its array', async () => {
    const algorithms = ['ES256'];
    const v = make({ revocationFeed: 'off', clientId: undefined, clientSecret: undefined, algorithms });
    // An app that edits its options array later (or a dependency that does) must not widen the allow-list.
    algorithms.push('EdDSA');
    expect(await refusal(v.verify(await issuer.sign(issuer.claims())))).toEqual({ code: 'invalid_token', reason: 'alg_not_allowed' });
  });

  it('is bounded (LRU eviction)', async () => {
    const v = make({ revocationFeed: 'off', clientId: undefined, clientSecret: undefined, cacheSize: 3 });
    for (let i = 0; i < 5; i++) await v.verify(await issuer.sign(issuer.claims()));
    expect(v.stats().cache.size).toBe(3);
  });
});

describe('revocation feed (SSE)', () => {
  it('a sid revocation pushed over SSE refuses a cached token within 1 s', async () => {
    const v = make();
    await v.ready();
    const claims = issuer.claims();
    const token = await issuer.sign(claims);
    await v.verify(token);
    await v.verify(token);
    expect(v.stats().cache.hits).toBe(1);
    issuer.revoke({ sid: claims.sid as string });
    expect(await msUntilRefused(v, token, 'token_revoked')).toBeLessThan(1000);
  });

  it('a sub revocation refuses tokens issued at or before revoked_at, not later ones', async () => {
    const v = make();
    await v.ready();
    const nowSec = Math.floor(Date.now() / 1000);
    const old = await issuer.sign(issuer.claims({ sub: 'bob', iat: nowSec - 30 }));
    const other = await issuer.sign(issuer.claims({ sub: 'carol', iat: nowSec - 30 }));
    await v.verify(old);
    issuer.revoke({ sub: 'bob' }, new Date((nowSec - 10) * 1000));
    expect(await msUntilRefused(v, old, 'token_revoked')).toBeLessThan(1000);
    const fresh = await issuer.sign(issuer.claims({ sub: 'bob', iat: nowSec }));
    expect((await v.verify(fresh)).sub).toBe('bob');
    expect((await v.verify(other)).sub).toBe('carol');
  });

  it('ready() loads revocations issued before start (initial catch-up)', async () => {
    const claims = issuer.claims();
    issuer.revoke({ sid: claims.sid as string });
    issuer.streamReplays = false;
    const v = make();
    await v.ready();
    expect((await refusal(v.verify(await issuer.sign(claims)))).code).toBe('token_revoked');
    expect(issuer.listSince[0]).toBe('0');
  });

  it('a stale feed fails closed with revocation_feed_stale, then recovers', async () => {
    const v = make();
    await v.ready();
    const token = await issuer.sign(issuer.claims());
    await v.verify(token);
    expect(v.isHealthy()).toBe(true);
    issuer.silent = true;
    await waitFor(() => (v.isHealthy() ? undefined : true), 4000);
    expect(await refusal(v.verify(token))).toEqual({ code: 'revocation_feed_stale', reason: 'feed_silent' });
    issuer.silent = false;
    await waitFor(() => (v.isHealthy() ? true : undefined), 10_000);
    expect((await v.verify(token)).sub).toBe('user-1');
  });

  it('reconnects after a dropped stream and catches up through the list with since=cursor', async () => {
    issuer.streamReplays = false;
    const v = make();
    await v.ready();
    issuer.revoke({ sid: 'sid-early' });
    await waitFor(() => (v.stats().feed!.cursor === 1 ? true : undefined));
    const claims = issuer.claims();
    const token = await issuer.sign(claims);
    await v.verify(token);

    // An outage: streams refused and the list down, while a session is revoked.
    issuer.refuseStreams = true;
    issuer.silent = true;
    issuer.dropStreams();
    issuer.revoke({ sid: claims.sid as string });
    await new Promise((r) => setTimeout(r, 300));
    expect((await v.verify(token)).sub).toBe('user-1'); // not known yet, feed still within staleness
    const attemptsBefore = issuer.streamSince.length;
    issuer.refuseStreams = false;
    issuer.silent = false;

    await waitFor(async () => ((await refusal(v.verify(token)).catch(() => ({ code: '' }))).code === 'token_revoked' ? true : undefined), 8000);
    expect(issuer.listSince).toContain('1');
    // The reconnection resumes from the last applied cursor, by query and by Last-Event-ID.
    expect(issuer.streamSince[attemptsBefore]).toEqual({ since: '1', lastEventId: '1' });
  });

  it('pages through a long catch-up', async () => {
    issuer.pageSize = 2;
    for (let i = 0; i < 7; i++) issuer.revoke({ sid: `sid-${i}` });
    issuer.streamReplays = false;
    const v = make();
    await v.ready();
    expect(v.stats().revocations.sids).toBe(7);
    expect(v.stats().feed!.cursor).toBe(7);
  });

  it('while the stream is refused, the list keeps the feed fresh and applies revocations', async () => {
    const v = make({ maxStalenessSec: 3 });
    await v.ready();
    issuer.refuseStreams = true;
    issuer.dropStreams();
    const claims = issuer.claims();
    const token = await issuer.sign(claims);
    issuer.revoke({ sid: claims.sid as string });
    await msUntilRefused(v, token, 'token_revoked');
    await new Promise((r) => setTimeout(r, 3500));
    expect(v.isHealthy()).toBe(true);
  });

  it('poll mode also applies revocations', async () => {
    const v = make({ revocationFeed: 'poll', maxStalenessSec: 3 });
    await v.ready();
    const claims = issuer.claims();
    const token = await issuer.sign(claims);
    await v.verify(token);
    issuer.revoke({ sid: claims.sid as string });
    await msUntilRefused(v, token, 'token_revoked');
    expect(issuer.streamSince).toHaveLength(0);
  });

  it('ready() rejects with wrong client credentials, and verify fails closed', async () => {
    const v = make({ clientSecret: 'wrong' });
    await expect(v.ready()).rejects.toThrow(/401/);
    expect((await refusal(v.verify(await issuer.sign(issuer.claims())))).code).toBe('revocation_feed_stale');
  });

  it('with the feed off, needs no credentials and stays healthy', async () => {
    const v = make({ revocationFeed: 'off', clientId: undefined, clientSecret: undefined });
    await v.ready();
    expect(v.isHealthy()).toBe(true);
    expect(v.stats().feed).toBeNull();
  });

  it('refuses a feed mode without credentials (misuse)', () => {
    expect(() => createVerifier({ issuer: issuer.url, revocationFeed: 'sse' })).toThrow(TypeError);
  });
});

describe('JWKS', () => {
  it('an unknown kid triggers one refetch, rate-limited to one per 10 s', async () => {
    let t = Date.now();
    const v = make({ revocationFeed: 'off', clientId: undefined, clientSecret: undefined, now: () => t });
    await v.ready();
    expect(issuer.jwksFetches).toBe(1);
    const nowSec = () => Math.floor(t / 1000);

    // Rotation: the issuer publishes a new key; the first token signed with it makes us refetch once.
    const rotated = newKey('EdDSA', 'ed-rotated');
    issuer.keys.push(rotated);
    t += 11_000;
    expect((await v.verify(await issuer.sign(issuer.claims({}, nowSec()), { key: rotated }))).sub).toBe('user-1');
    expect(issuer.jwksFetches).toBe(2);

    // A flood of made-up kids right after: no further fetches.
    const bogus = await Promise.all(Array.from({ length: 20 }, (_, i) => issuer.sign(issuer.claims({}, nowSec()), { header: { kid: `bogus-${i}` } })));
    for (const r of await Promise.all(bogus.map((b) => refusal(v.verify(b))))) expect(r.reason).toBe('kid_unknown');
    expect(issuer.jwksFetches).toBe(2);

    // After the interval a concurrent burst still costs a single fetch.
    t += 11_000;
    const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => issuer.sign(issuer.claims({}, nowSec()), { header: { kid: `burst-${i}` } })));
    await Promise.all(burst.map((b) => refusal(v.verify(b))));
    expect(issuer.jwksFetches).toBe(3);
  });

  it('keeps keys per Cache-Control max-age (no fetch per token)', async () => {
    const v = make({ revocationFeed: 'off', clientId: undefined, clientSecret: undefined });
    await v.ready();
    for (let i = 0; i < 10; i++) await v.verify(await issuer.sign(issuer.claims(), { key: issuer.keys[i % 2] }));
    expect(issuer.jwksFetches).toBe(1);
  });
});

describe('start-up before the issuer', () => {
  it('keeps retrying the keys and the feed until the issuer answers, then becomes healthy', async () => {
    const late = new FakeIssuer();
    await late.start();
    const url = late.url;
    await late.close();
    const v = createVerifier({ issuer: url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, maxStalenessSec: 2 });
    open.push(v);
    await expect(v.ready()).rejects.toThrow();
    expect(v.isHealthy()).toBe(false);
    const port = Number(new URL(url).port);
    const revived = new FakeIssuer();
    await revived.startOn(port);
    try {
      await waitFor(() => (v.isHealthy() ? true : undefined), 10_000, 50);
      expect((await v.verify(await revived.sign(revived.claims()))).sub).toBe('user-1');
    } finally {
      await v.close();
      await revived.close();
    }
  });
});
