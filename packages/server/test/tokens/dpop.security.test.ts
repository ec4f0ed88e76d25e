import { randomUUID, createHash } from 'node:crypto';
import { SignJWT, calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startServer, type TestServer } from '../support/server.js';
import { signUp } from '../support/users.js';

interface Holder {
  privateKey: CryptoKey;
  jwk: JWK;
}
async function holder(): Promise<Holder> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return { privateKey, jwk: await exportJWK(publicKey) };
}
async function proof(h: Holder, htm: string, htu: string, accessToken?: string, jti = randomUUID()): Promise<string> {
  return new SignJWT({ htm, htu, jti, ...(accessToken ? { ath: createHash('sha256').update(accessToken).digest('base64url') } : {}) })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: h.jwk })
    .setIssuedAt()
    .sign(h.privateKey);
}

describe('sender-constrained tokens (DPoP, RFC 9449) at the server', () => {
  let s: TestServer;
  let iss: string;
  let alice: Holder;
  let thief: Holder;
  let at: string;
  let rt: string;
  beforeAll(async () => {
    s = await startServer();
    iss = s.t.config.issuer;
    alice = await holder();
    thief = await holder();
    await signUp(s, 'dpop@example.com', 'correct horse battery staple');
  });
  afterAll(async () => s?.close());

  const me = async (headers: Record<string, string>) => http(s.url, 'GET', '/v1/me', { headers });

  it('a login with a DPoP proof binds the tokens to that key', async () => {
    const l = await http(s.url, 'POST', '/v1/login', {
      json: { email: 'dpop@example.com', password: 'correct horse battery staple' },
      headers: { dpop: await proof(alice, 'POST', `${iss}/v1/login`) },
    });
    expect(l.status).toBe(200);
    expect(l.body.token_type).toBe('DPoP');
    at = l.body.access_token;
    rt = l.body.refresh_token;
    expect((decodeJwt(at).cnf as { jkt: string }).jkt).toBe(await calculateJwkThumbprint(alice.jwk));
    expect((await me({ authorization: `DPoP ${at}`, dpop: await proof(alice, 'GET', `${iss}/v1/me`, at) })).status).toBe(200);
  });

  it('the stolen access token is useless without the key', async () => {
    const cases: Array<[string, Record<string, string>]> = [
      ['presented as Bearer', { authorization: `Bearer ${at}` }],
      ['DPoP scheme without a proof', { authorization: `DPoP ${at}` }],
      ['a proof from another key', { authorization: `DPoP ${at}`, dpop: await proof(thief, 'GET', `${iss}/v1/me`, at) }],
      ['a proof for another URL', { authorization: `DPoP ${at}`, dpop: await proof(alice, 'GET', `${iss}/v1/sessions`, at) }],
      ['a proof for another method', { authorization: `DPoP ${at}`, dpop: await proof(alice, 'POST', `${iss}/v1/me`, at) }],
      ['a proof for another token', { authorization: `DPoP ${at}`, dpop: await proof(alice, 'GET', `${iss}/v1/me`, `${at}x`) }],
    ];
    for (const [name, headers] of cases) expect((await me(headers)).status, name).toBe(401);
    const replayed = await proof(alice, 'GET', `${iss}/v1/me`, at);
    expect((await me({ authorization: `DPoP ${at}`, dpop: replayed })).status).toBe(200);
    expect((await me({ authorization: `DPoP ${at}`, dpop: replayed })).status, 'a replayed proof').toBe(401);
  });

  it('the refresh token only works with a proof from the same key', async () => {
    const refresh = async (dpop?: string) =>
      http(s.url, 'POST', '/v1/token', { form: { grant_type: 'refresh_token', refresh_token: rt }, headers: dpop ? { dpop } : {} });
    expect((await refresh()).body.code).toBe('invalid_dpop_proof');
    expect((await refresh(await proof(thief, 'POST', `${iss}/v1/token`))).status).toBe(401);
    const ok = await refresh(await proof(alice, 'POST', `${iss}/v1/token`));
    expect(ok.status).toBe(200);
    expect(ok.body.token_type).toBe('DPoP');
    expect((decodeJwt(ok.body.access_token).cnf as { jkt: string }).jkt).toBe(await calculateJwkThumbprint(alice.jwk));
  });

  it('an unbound token presented with the DPoP scheme is refused', async () => {
    const plain = await http(s.url, 'POST', '/v1/login', { json: { email: 'dpop@example.com', password: 'correct horse battery staple' } });
    expect(plain.body.token_type).toBe('Bearer');
    const t = plain.body.access_token as string;
    expect((await me({ authorization: `DPoP ${t}`, dpop: await proof(alice, 'GET', `${iss}/v1/me`, t) })).status).toBe(401);
    expect((await me({ authorization: `Bearer ${t}` })).status).toBe(200);
  });
});
