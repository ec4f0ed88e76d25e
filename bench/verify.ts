import { generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { Bench } from 'tinybench';
import { accessTokenHash } from '../packages/sdk/src/dpop.js';
import { DpopNonces } from '../packages/sdk/src/edge/nonce.js';
import { createVerifier } from '../packages/sdk/src/verifier.js';
import type { BenchIssuer } from './issuer.js';

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

/**
 * Key-bound browser sessions (cookie mode): bound tokens and, for each call, a fresh single-use ES256 proof
 * with its `ath` and a server nonce, made ahead so the timed call is only what a resource server does.
 */
async function boundCalls(issuer: BenchIssuer, tokens: number, calls: number, url: string, nonce: string): Promise<Array<{ token: string; proof: string }>> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const jkt = await calculateJwkThumbprint(jwk);
  const bound = Array.from({ length: tokens }, () => issuer.mint(issuer.ed, 3600, { cnf: { jkt } }));
  const header = b64({ typ: 'dpop+jwt', alg: 'ES256', jwk });
  return Array.from({ length: calls }, (_, i) => {
    const token = bound[i % bound.length];
    const input = `${header}.${b64({ jti: randomUUID(), htm: 'GET', htu: url, iat: Math.floor(Date.now() / 1000), ath: accessTokenHash(token), nonce })}`;
    const sig = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    return { token, proof: `${input}.${sig.toString('base64url')}` };
  });
}

/** ops/s of `verify()` alone: cached (1,000 live tokens cycled) and uncached (a never-seen token each call). */
export async function benchVerify(issuer: BenchIssuer, clientId: string, clientSecret: string, live: string[], fresh: string[], timeMs: number): Promise<string[]> {
  // Proofs first, before any verifier runs: signing them blocks the event loop, which a live feed would not survive.
  const url = 'https://api.example.com/notes';
  const nonces = new DpopNonces({ secret: randomBytes(32) });
  const bound = await boundCalls(issuer, live.length, Math.ceil(timeMs * 40), url, nonces.current());
  const verifier = createVerifier({ issuer: issuer.url, clientId, clientSecret, algorithms: ['EdDSA'] });
  const nodeCrypto = createVerifier({ issuer: issuer.url, clientId, clientSecret, algorithms: ['EdDSA'], ed25519Backend: 'node:crypto' });
  await Promise.all([verifier.ready(), nodeCrypto.ready()]);
  for (const t of live) await verifier.verify(t);
  let i = 0;
  let j = 0;
  const bench = new Bench({ time: timeMs, warmupTime: 200 });
  bench.add('verify() cached (1,000 tokens, 100k revocations)', async () => {
    await verifier.verify(live[i++ % live.length]);
  });
  bench.add('verify() uncached (new token each call)', async () => {
    const t = fresh[j++];
    if (t === undefined) throw new Error('out of fresh tokens');
    await verifier.verify(t);
  });
  let k = 0;
  bench.add('verify() uncached, node:crypto Ed25519', async () => {
    const t = fresh[k++];
    if (t === undefined) throw new Error('out of fresh tokens');
    await nodeCrypto.verify(t);
  });
  // The same run: a cached plain token next to a cached key-bound one, whose every call checks a new proof.
  // Warm the cache with the bound tokens (refused without a proof, but their signatures are checked and kept).
  for (const { token } of bound.slice(0, live.length)) await verifier.verify(token, { scheme: 'cookie', method: 'GET', url }).catch(() => undefined);
  let n = 0;
  let p = 0;
  bench.add('verify() cached, plain cookie/Bearer token', async () => {
    await verifier.verify(live[p++ % live.length], { scheme: 'cookie', method: 'GET', url });
  });
  bench.add('verify() cached, key-bound cookie token + DPoP proof (ES256, ath, nonce)', async () => {
    const c = bound[n++];
    if (c === undefined) throw new Error('out of DPoP proofs');
    await verifier.verify(c.token, { scheme: 'cookie', method: 'GET', url, dpopProof: c.proof, checkNonce: (v) => nonces.isValid(v) });
  });
  await bench.run();
  const stats = verifier.stats();
  await Promise.all([verifier.close(), nodeCrypto.close()]);
  // ops/s as 1 / mean latency: tinybench's mean of per-sample rates overstates a task with a long tail.
  const out = ['| verify() | ops/s | mean µs | p99 µs |', '| --- | ---: | ---: | ---: |'];
  for (const task of bench.tasks) {
    const r = task.result;
    if (!r || r.error) throw r?.error ?? new Error(`${task.name}: no result`);
    out.push(`| ${task.name} | ${Math.round(1000 / r.latency.mean)} | ${(r.latency.mean * 1000).toFixed(2)} | ${((r.latency.p99 ?? NaN) * 1000).toFixed(2)} |`);
  }
  out.push('', `(revoked sids loaded: ${stats.revocations.sids}; verifier cache hits ${stats.cache.hits}, misses ${stats.cache.misses})`);
  return out;
}
