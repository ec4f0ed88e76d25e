import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { calculateJwkThumbprint, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessTokenHash, createVerifier, type TesseraVerifier } from '../src/index.js';
import { tesseraAuth as tesseraExpress } from '../src/express.js';
import { requireAuth, tesseraAuth } from '../src/fastify.js';
import { ReplayCache } from '../src/replay.js';
import { FakeIssuer, refusal } from './support/issuer.js';

const NOTES = 'https://notes.example.com';
const FILES = 'https://files.example.com';

let issuer: FakeIssuer;
let verifier: TesseraVerifier;
let userToken: string;
let adminToken: string;

beforeAll(async () => {
  issuer = await new FakeIssuer().start();
  verifier = createVerifier({ issuer: issuer.url });
  await verifier.ready();
  userToken = await issuer.sign(issuer.claims());
  adminToken = await issuer.sign(issuer.claims({ sub: 'root', roles: ['admin'] }));
});
afterAll(async () => {
  await verifier.close();
  await issuer.close();
});

interface Holder {
  privateKey: KeyObject;
  jwk: JWK;
  jkt: string;
}
async function holder(): Promise<Holder> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' }) as JWK;
  return { privateKey, jwk, jkt: await calculateJwkThumbprint(jwk) };
}
async function proof(h: Holder, htm: string, htu: string, token: string): Promise<string> {
  return new SignJWT({ htm, htu, iat: Math.floor(Date.now() / 1000), jti: randomUUID(), ath: accessTokenHash(token) })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: h.jwk })
    .sign(h.privateKey);
}

async function fastifyApp(opts: Record<string, unknown>) {
  const app = Fastify();
  await app.register(tesseraAuth, { verifier, ...opts });
  app.get('/me', { preHandler: requireAuth }, async (request) => ({ sub: request.auth?.sub }));
  await app.ready();
  return app;
}

describe('DPoP needs a configured origin, never the Host header (issue 17, item 7)', () => {
  it('the Fastify plugin and the Express middleware refuse to start without origin while DPoP is accepted', async () => {
    const app = Fastify();
    await expect(app.register(tesseraAuth, { verifier }).ready()).rejects.toThrow(/origin is required while DPoP is accepted/);
    await app.close();
    expect(() => tesseraExpress({ verifier })).toThrow(TypeError);
    expect(() => tesseraExpress({ verifier, origin: 'https://api.example.com/v1' })).toThrow(/scheme, host and optional port only/);
    expect(() => tesseraExpress({ verifier, origin: 'api.example.com' })).toThrow(TypeError);
  });

  it('a proof captured at another API that trusts the same issuer is refused, whatever Host the replay claims', async () => {
    const app = await fastifyApp({ origin: NOTES });
    try {
      const alice = await holder();
      const bound = await issuer.sign(issuer.claims({ cnf: { jkt: alice.jkt } }));
      const captured = await proof(alice, 'GET', `${FILES}/me`, bound);
      const replay = await app.inject({ url: '/me', headers: { host: 'files.example.com', authorization: `DPoP ${bound}`, dpop: captured } });
      expect([replay.statusCode, replay.json().code]).toEqual([401, 'invalid_dpop_proof']);
      const own = await app.inject({ url: '/me', headers: { host: 'files.example.com', authorization: `DPoP ${bound}`, dpop: await proof(alice, 'GET', `${NOTES}/me`, bound) } });
      expect(own.statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('with dpop: false no origin is needed, and the DPoP scheme is refused', async () => {
    const app = await fastifyApp({ dpop: false });
    try {
      expect((await app.inject({ url: '/me', headers: { authorization: `Bearer ${userToken}` } })).statusCode).toBe(200);
      const dpop = await app.inject({ url: '/me', headers: { authorization: `DPoP ${userToken}` } });
      expect([dpop.statusCode, dpop.headers['www-authenticate']]).toEqual([401, 'Bearer error="invalid_token"']);
      expect((await app.inject({ url: '/me' })).headers['www-authenticate']).toBe('Bearer');
    } finally {
      await app.close();
    }
  });
});

describe('a full DPoP replay cache refuses new proofs instead of forgetting live ones (issue 17, item 13)', () => {
  it('the cache: a third proof is refused, and the first stays a replay', async () => {
    let t = 1_000_000;
    const cache = new ReplayCache(2, () => t);
    expect(await cache.isReplay('a', 65_000)).toBe(false);
    expect(await cache.isReplay('b', 65_000)).toBe(false);
    expect(await refusal(cache.isReplay('c', 65_000))).toEqual({ code: 'invalid_dpop_proof', reason: 'replay_cache_full' });
    expect(await cache.isReplay('a', 65_000)).toBe(true);
    // Once the window has passed, the entries expire and new proofs are accepted again.
    t += 65_001;
    expect(await cache.isReplay('c', 65_000)).toBe(false);
    expect(cache.size).toBe(1);
  });

  it('through the verifier, sized from its options', async () => {
    expect(() => createVerifier({ issuer: issuer.url, dpopReplayCacheSize: 0 })).toThrow(TypeError);
    const small = createVerifier({ issuer: issuer.url, dpopReplayCacheSize: 2 });
    try {
      await small.ready();
      const alice = await holder();
      const bound = await issuer.sign(issuer.claims({ cnf: { jkt: alice.jkt } }));
      const ctx = async () => ({ scheme: 'dpop' as const, method: 'GET', url: `${NOTES}/me`, dpopProof: await proof(alice, 'GET', `${NOTES}/me`, bound) });
      const first = await ctx();
      await small.verify(bound, first);
      await small.verify(bound, await ctx());
      expect(await refusal(small.verify(bound, await ctx()))).toEqual({ code: 'invalid_dpop_proof', reason: 'replay_cache_full' });
      expect(await refusal(small.verify(bound, first))).toEqual({ code: 'invalid_dpop_proof', reason: 'jti_replayed' });
    } finally {
      await small.close();
    }
  });
});

/** A GET over a real socket with the given header lines, repeated names included. */
function rawGet(base: string, lines: Array<[string, string]>): Promise<{ status: number; code: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}/me`, { method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, code: (JSON.parse(body) as { code?: string }).code }));
    });
    const byName = new Map<string, string[]>();
    for (const [n, v] of lines) byName.set(n, [...(byName.get(n) ?? []), v]);
    for (const [n, vs] of byName) req.setHeader(n, vs.length === 1 ? vs[0] : vs);
    req.on('error', reject);
    req.end();
  });
}

describe('one credential per request: anything ambiguous is refused, not resolved (issue 11, issue 17 item 12)', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    const app = express();
    const auth = tesseraExpress({ verifier, origin: NOTES });
    app.get('/me', auth.requireAuth, (req, res) => {
      res.json({ sub: req.auth?.sub });
    });
    await new Promise<void>((resolve) => {
      server = app.listen(0, '127.0.0.1', () => resolve());
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('two Authorization headers (Node keeps only the first in req.headers) are refused, over a real socket', async () => {
    expect(await rawGet(base, [['authorization', `Bearer ${userToken}`]])).toEqual({ status: 200, code: undefined });
    expect(await rawGet(base, [['authorization', `Bearer ${userToken}`], ['authorization', `Bearer ${adminToken}`]])).toEqual({ status: 401, code: 'invalid_token' });
  });

  it('the Fastify plugin refuses them too, on its synchronous path as on the full one', async () => {
    const app = await fastifyApp({ origin: NOTES });
    try {
      // (Capitalised: the typed `authorization` member takes one value, the index signature an array.)
      const two = await app.inject({ url: '/me', headers: { Authorization: [`Bearer ${userToken}`, `Bearer ${adminToken}`] } });
      expect([two.statusCode, two.json().code]).toEqual([401, 'invalid_token']);
      const both = await app.inject({ url: '/me', headers: { authorization: `Bearer ${userToken}`, cookie: `__Host-tessera_at=${adminToken}` } });
      expect([both.statusCode, both.json().code]).toEqual([401, 'invalid_token']);
      // An unrelated cookie is no second credential.
      expect((await app.inject({ url: '/me', headers: { authorization: `Bearer ${userToken}`, cookie: 'theme=dark' } })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('a header and the access cookie at once, two access cookies, two DPoP headers', async () => {
    expect(await rawGet(base, [['authorization', `Bearer ${userToken}`], ['cookie', `__Host-tessera_at=${adminToken}`]])).toEqual({ status: 401, code: 'invalid_token' });
    expect(await rawGet(base, [['cookie', `__Host-tessera_at=${userToken}`], ['cookie', `__Host-tessera_at=${adminToken}`]])).toEqual({ status: 401, code: 'invalid_token' });
    expect(await rawGet(base, [['authorization', `Bearer ${userToken}`], ['dpop', 'a.b.c'], ['dpop', 'd.e.f']])).toEqual({ status: 401, code: 'invalid_dpop_proof' });
  });
});
