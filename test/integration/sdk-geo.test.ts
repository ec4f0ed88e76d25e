import { createVerifier, isTesseraTokenError, type TesseraVerifier } from '@tessera/sdk';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomToken, sha256 } from '../../packages/server/src/core/crypto.js';
import { http, startServer, type TestServer } from '../../packages/server/test/support/server.js';
import { signUp } from '../../packages/server/test/support/users.js';

const LONDON = '81.2.69.160';
const PARIS = '90.84.0.1';
const SYDNEY = '1.1.1.1';

describe('the SDK refuses impossible travel locally and reports it', () => {
  let s: TestServer;
  let verifier: TesseraVerifier;
  beforeAll(async () => {
    s = await startServer({ env: { TESSERA_TRUST_PROXY: 'loopback' } });
    const secret = randomToken();
    await s.t.store.createClient({ id: 'rs_geo', name: 'geo', secretHash: sha256(secret), createdAt: Date.now() });
    verifier = createVerifier({
      issuer: s.t.config.issuer,
      clientId: 'rs_geo',
      clientSecret: secret,
      // The resource server brings its own IP lookup; here the server's bundled city database.
      geo: { locate: (ip) => s.t.geo.locate(ip) as { lat: number; lon: number } | null },
    });
    await verifier.ready();
  });
  afterAll(async () => {
    await verifier?.close();
    await s?.close();
  });

  it('a token issued in London is fine from Paris, refused from Sydney; the session is then revoked by the server', async () => {
    await signUp(s, 'geo@example.com', 'correct horse battery staple');
    const l = await http(s.url, 'POST', '/v1/login', { json: { email: 'geo@example.com', password: 'correct horse battery staple' }, headers: { 'x-forwarded-for': LONDON } });
    const token = l.body.access_token as string;
    expect(decodeJwt(token).loc).toEqual({ lat: 51.5, lon: -0.1 });

    await expect(verifier.verify(token, { ip: LONDON })).resolves.toMatchObject({ sid: l.body.session_id });
    await expect(verifier.verify(token, { ip: PARIS })).resolves.toBeTruthy();
    await expect(verifier.verify(token, { ip: '10.1.2.3' })).resolves.toBeTruthy(); // private: no location, no rule
    const err = await verifier.verify(token, { ip: SYDNEY, userAgent: 'curl/8' }).catch((e: unknown) => e);
    expect(isTesseraTokenError(err) && err.code === 'token_revoked' && err.reason === 'impossible_travel').toBe(true);

    // The report reached the server: the session is revoked there and an event recorded.
    for (let i = 0; i < 50; i++) {
      if ((await http(s.url, 'GET', '/v1/me', { headers: { authorization: `Bearer ${token}` } })).status === 401) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await http(s.url, 'GET', '/v1/me', { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    const events = await s.t.events.list({ type: 'impossible_travel' });
    expect(events.some((e) => e.sessionId === l.body.session_id)).toBe(true);
  });
});
