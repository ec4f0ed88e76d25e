import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { calculateJwkThumbprint, SignJWT } from 'jose';
import type { JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessTokenHash, createVerifier } from '../src/index.js';
import type { TesseraVerifier } from '../src/index.js';
import { tesseraAuth as tesseraExpress } from '../src/express.js';
import { requireAuth, requireRole, requireScope, tesseraAuth } from '../src/fastify.js';
import { CLIENT_ID, CLIENT_SECRET, FakeIssuer, waitFor } from './support/issuer.js';

const ORIGIN = 'https://api.example.com';
let issuer: FakeIssuer;
let verifier: TesseraVerifier;
let userToken: string;
let adminToken: string;

beforeAll(async () => {
  issuer = await new FakeIssuer().start();
  verifier = createVerifier({ issuer: issuer.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, maxStalenessSec: 2 });
  await verifier.ready();
  userToken = await issuer.sign(issuer.claims({ scope: 'notes:read' }));
  adminToken = await issuer.sign(issuer.claims({ sub: 'root', roles: ['admin'], scope: 'notes:read notes:write' }));
});
afterAll(async () => {
  await verifier.close();
  await issuer.close();
});

async function dpopPair(method: string, url: string) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' }) as JWK;
  const token = await issuer.sign(issuer.claims({ cnf: { jkt: await calculateJwkThumbprint(jwk) } }));
  const proof = await new SignJWT({ htm: method, htu: url, iat: Math.floor(Date.now() / 1000), jti: randomUUID(), ath: accessTokenHash(token) })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
    .sign(privateKey);
  return { token, proof };
}

describe('fastify plugin', () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    app = Fastify();
    await app.register(tesseraAuth, { verifier, origin: ORIGIN });
    app.get('/me', { preHandler: requireAuth }, async (request) => ({ sub: request.auth?.sub }));
    app.get('/admin', { preHandler: requireRole('admin') }, async (request) => ({ sub: request.auth?.sub }));
    app.post('/notes', { preHandler: requireScope('notes:write') }, async () => ({ ok: true }));
    app.get('/public', async (request) => ({ auth: request.auth }));
    await app.ready();
  });
  afterAll(async () => app.close());

  it('answers 401 with a challenge when no credential is sent', async () => {
    const res = await app.inject({ url: '/me' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(res.json()).toEqual({ type: 'https://tessera.dev/problems/invalid_token', title: expect.any(String), status: 401, code: 'invalid_token' });
  });

  it('answers 401 invalid_token for a bad token, without internal detail', async () => {
    const res = await app.inject({ url: '/me', headers: { authorization: 'Bearer abc.def' } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(res.body).not.toMatch(/malformed|ERR_/);
  });

  it('sets request.auth for a valid Bearer token', async () => {
    const res = await app.inject({ url: '/me', headers: { authorization: `Bearer ${userToken}` } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ sub: 'user-1' });
    expect((await app.inject({ url: '/public' })).json()).toEqual({ auth: null });
  });

  it('a known signature on another payload is not a cache hit (the cache compares whole tokens)', async () => {
    // userToken is cached by now; its cache key is the tail of its signature.
    expect((await app.inject({ url: '/me', headers: { authorization: `Bearer ${userToken}` } })).statusCode).toBe(200);
    const [h, , sig] = userToken.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify(issuer.claims({ sub: 'root', roles: ['admin'] }))).toString('base64url')}.${sig}`;
    for (const url of ['/me', '/admin']) {
      const res = await app.inject({ url, headers: { authorization: `Bearer ${forged}` } });
      expect([res.statusCode, res.json().code, res.headers['www-authenticate']]).toEqual([401, 'invalid_token', 'Bearer error="invalid_token"']);
    }
  });

  it('refuses a well-formed token signed by a stranger, on first sight and again', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const stranger = await new SignJWT(issuer.claims()).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: issuer.keys[0].kid }).sign(privateKey);
    for (let i = 0; i < 2; i++) {
      const res = await app.inject({ url: '/me', headers: { authorization: `Bearer ${stranger}` } });
      expect([res.statusCode, res.json().code, res.headers['www-authenticate']]).toEqual([401, 'invalid_token', 'Bearer error="invalid_token"']);
    }
  });

  it('reads a header the fast path does not take exactly as before (spaces after the scheme, lower-case scheme)', async () => {
    for (const authorization of [`Bearer   ${adminToken}`, `bearer ${adminToken}`]) {
      const res = await app.inject({ url: '/admin', headers: { authorization } });
      expect([res.statusCode, res.json()]).toEqual([200, { sub: 'root' }]);
    }
  });

  it('requireAuth called from your own code (no done callback) still returns a promise', async () => {
    const local = Fastify();
    await local.register(tesseraAuth, { verifier, origin: ORIGIN });
    local.get('/wrapped', { preHandler: async (request, reply) => requireAuth(request, reply) }, async (request) => ({ sub: request.auth?.sub }));
    try {
      expect((await local.inject({ url: '/wrapped', headers: { authorization: `Bearer ${userToken}` } })).json()).toEqual({ sub: 'user-1' });
      expect((await local.inject({ url: '/wrapped' })).statusCode).toBe(401);
    } finally {
      await local.close();
    }
  });

  it('requireRole: 403 insufficient_scope without the role, 200 with it', async () => {
    const denied = await app.inject({ url: '/admin', headers: { authorization: `Bearer ${userToken}` } });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().code).toBe('insufficient_scope');
    const ok = await app.inject({ url: '/admin', headers: { authorization: `Bearer ${adminToken}` } });
    expect(ok.json()).toEqual({ sub: 'root' });
  });

  it('requireScope: 403 with the missing scope in WWW-Authenticate', async () => {
    const denied = await app.inject({ method: 'POST', url: '/notes', headers: { authorization: `Bearer ${userToken}` } });
    expect(denied.statusCode).toBe(403);
    expect(denied.headers['www-authenticate']).toBe('Bearer error="insufficient_scope", scope="notes:write"');
    expect((await app.inject({ method: 'POST', url: '/notes', headers: { authorization: `Bearer ${adminToken}` } })).statusCode).toBe(200);
  });

  it('reads the __Host-tessera_at cookie, and demands the CSRF header on unsafe methods', async () => {
    const cookie = `theme=dark; __Host-tessera_at=${adminToken}; __Host-tessera_csrf=c5rf`;
    expect((await app.inject({ url: '/me', headers: { cookie } })).statusCode).toBe(200);
    const noCsrf = await app.inject({ method: 'POST', url: '/notes', headers: { cookie } });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json().code).toBe('csrf_failed');
    const wrongCsrf = await app.inject({ method: 'POST', url: '/notes', headers: { cookie, 'x-csrf-token': 'other' } });
    expect(wrongCsrf.statusCode).toBe(403);
    expect((await app.inject({ method: 'POST', url: '/notes', headers: { cookie, 'x-csrf-token': 'c5rf' } })).statusCode).toBe(200);
  });

  it('refuses two access-token cookies (cookie tossing)', async () => {
    const res = await app.inject({ url: '/me', headers: { cookie: `__Host-tessera_at=${userToken}; __Host-tessera_at=${adminToken}` } });
    expect(res.statusCode).toBe(401);
  });

  it('accepts DPoP with a proof for this origin, refuses the token as Bearer', async () => {
    const { token, proof } = await dpopPair('GET', `${ORIGIN}/me`);
    const ok = await app.inject({ url: '/me', headers: { authorization: `DPoP ${token}`, dpop: proof } });
    expect(ok.statusCode).toBe(200);
    const asBearer = await app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } });
    expect(asBearer.statusCode).toBe(401);
    const noProof = await app.inject({ url: '/me', headers: { authorization: `DPoP ${token}` } });
    expect(noProof.statusCode).toBe(401);
    expect(noProof.headers['www-authenticate']).toMatch(/^DPoP error="invalid_dpop_proof", algs="ES256 EdDSA"/);
    expect(noProof.json().code).toBe('invalid_dpop_proof');
  });

  it('answers 401 token_revoked after a revocation', async () => {
    const claims = issuer.claims();
    const token = await issuer.sign(claims);
    expect((await app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
    issuer.revoke({ sid: claims.sid as string });
    const res = await waitFor(async () => {
      const r = await app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } });
      return r.statusCode === 401 ? r : undefined;
    });
    expect(res.json().code).toBe('token_revoked');
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });

  it('answers 503 revocation_feed_stale when the feed is silent, then recovers', async () => {
    issuer.silent = true;
    try {
      const res = await waitFor(async () => {
        const r = await app.inject({ url: '/me', headers: { authorization: `Bearer ${userToken}` } });
        return r.statusCode === 503 ? r : undefined;
      }, 5000, 50);
      expect(res.json().code).toBe('revocation_feed_stale');
    } finally {
      issuer.silent = false;
    }
    await waitFor(async () => ((await app.inject({ url: '/me', headers: { authorization: `Bearer ${userToken}` } })).statusCode === 200 ? true : undefined), 10_000, 50);
  });
});

describe('express middleware (over a real socket)', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const app = express();
    const auth = tesseraExpress({ verifier, origin: ORIGIN });
    app.get('/me', auth.requireAuth, (req, res) => {
      res.json({ sub: req.auth?.sub });
    });
    app.get('/admin', auth.requireRole('admin'), (req, res) => {
      res.json({ sub: req.auth?.sub });
    });
    app.post('/notes', auth.requireScope('notes:write'), (_req, res) => {
      res.json({ ok: true });
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

  it('401 problem+json without a token', async () => {
    const res = await fetch(`${base}/me`);
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(((await res.json()) as { code: string }).code).toBe('invalid_token');
  });

  it('200 with req.auth for a valid token; 401 for a tampered one', async () => {
    const ok = await fetch(`${base}/me`, { headers: { authorization: `Bearer ${userToken}` } });
    expect(await ok.json()).toEqual({ sub: 'user-1' });
    const tampered = `${userToken.slice(0, -4)}AAAA`;
    expect((await fetch(`${base}/me`, { headers: { authorization: `Bearer ${tampered}` } })).status).toBe(401);
  });

  it('roles and scopes', async () => {
    expect((await fetch(`${base}/admin`, { headers: { authorization: `Bearer ${userToken}` } })).status).toBe(403);
    expect((await fetch(`${base}/admin`, { headers: { authorization: `Bearer ${adminToken}` } })).status).toBe(200);
    const denied = await fetch(`${base}/notes`, { method: 'POST', headers: { authorization: `Bearer ${userToken}` } });
    expect(denied.status).toBe(403);
    expect(denied.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope", scope="notes:write"');
    expect((await fetch(`${base}/notes`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}` } })).status).toBe(200);
  });

  it('cookie transport with CSRF', async () => {
    const cookie = `__Host-tessera_at=${adminToken}; __Host-tessera_csrf=tok`;
    expect((await fetch(`${base}/me`, { headers: { cookie } })).status).toBe(200);
    expect((await fetch(`${base}/notes`, { method: 'POST', headers: { cookie } })).status).toBe(403);
    expect((await fetch(`${base}/notes`, { method: 'POST', headers: { cookie, 'x-csrf-token': 'tok' } })).status).toBe(200);
  });

  it('DPoP-bound token with a proof for the configured origin', async () => {
    const { token, proof } = await dpopPair('GET', `${ORIGIN}/me`);
    expect((await fetch(`${base}/me`, { headers: { authorization: `DPoP ${token}`, dpop: proof } })).status).toBe(200);
    // The same proof again is a replay.
    expect((await fetch(`${base}/me`, { headers: { authorization: `DPoP ${token}`, dpop: proof } })).status).toBe(401);
  });
});

describe('fastify plugin with its own verifier', () => {
  it('creates the verifier from options and closes it with the app', async () => {
    const app = Fastify();
    await app.register(tesseraAuth, { issuer: issuer.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, origin: ORIGIN });
    app.get('/me', { preHandler: app.tessera.requireAuth }, async (request) => ({ sub: request.auth?.sub }));
    await app.ready();
    await waitFor(() => (app.tessera.verifier.isHealthy() ? true : undefined));
    expect((await app.inject({ url: '/me', headers: { authorization: `Bearer ${userToken}` } })).json()).toEqual({ sub: 'user-1' });
    const streams = issuer.openStreams;
    await app.close();
    await waitFor(() => (issuer.openStreams < streams ? true : undefined));
  });
});

describe('key-bound browser sessions (a bound token in the cookie) with server nonces', () => {
  const secret = 'n'.repeat(32);
  async function cookieCall(method: string, url: string, nonce?: string) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' }) as JWK;
    const token = await issuer.sign(issuer.claims({ cnf: { jkt: await calculateJwkThumbprint(jwk) } }));
    const sign = (n?: string) =>
      new SignJWT({ htm: method, htu: url, iat: Math.floor(Date.now() / 1000), jti: randomUUID(), ath: accessTokenHash(token), ...(n ? { nonce: n } : {}) })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
        .sign(privateKey);
    return { token, proof: await sign(nonce), sign };
  }

  it('fastify: no nonce is 401 use_dpop_nonce with a DPoP-Nonce to retry with; the retry passes; the cookie alone never', async () => {
    const app = Fastify();
    await app.register(tesseraAuth, { verifier, origin: ORIGIN, dpopNonce: { secret } });
    app.get('/me', { preHandler: requireAuth }, async (request) => ({ sub: request.auth?.sub }));
    const { token, proof, sign } = await cookieCall('GET', `${ORIGIN}/me`);
    const cookie = `__Host-tessera_at=${token}`;
    expect((await app.inject({ url: '/me', headers: { cookie } })).statusCode).toBe(401);
    const first = await app.inject({ url: '/me', headers: { cookie, dpop: proof } });
    expect(first.statusCode).toBe(401);
    expect(first.headers['www-authenticate']).toMatch(/^DPoP error="use_dpop_nonce"/);
    const nonce = String(first.headers['dpop-nonce']);
    const retry = await app.inject({ url: '/me', headers: { cookie, dpop: await sign(nonce) } });
    expect(retry.statusCode).toBe(200);
    expect(retry.headers['dpop-nonce']).toBe(nonce);
    await app.close();
  });

  it('express: the same rules over a real socket', async () => {
    const app = express();
    const auth = tesseraExpress({ verifier, origin: ORIGIN, dpopNonce: { secret } });
    app.get('/me', auth.requireAuth, (req, res) => {
      res.json({ sub: req.auth?.sub });
    });
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const { token, proof, sign } = await cookieCall('GET', `${ORIGIN}/me`);
      const cookie = `__Host-tessera_at=${token}`;
      const first = await fetch(`${base}/me`, { headers: { cookie, dpop: proof } });
      expect(first.status).toBe(401);
      const nonce = first.headers.get('dpop-nonce')!;
      expect(((await first.json()) as { code: string }).code).toBe('use_dpop_nonce');
      expect((await fetch(`${base}/me`, { headers: { cookie, dpop: await sign(nonce) } })).status).toBe(200);
      expect((await fetch(`${base}/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
