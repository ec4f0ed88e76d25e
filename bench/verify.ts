import { Bench } from 'tinybench';
import { createVerifier } from '../packages/sdk/src/verifier.js';
import type { BenchIssuer } from './issuer.js';

/** ops/s of `verify()` alone: cached (1,000 live tokens cycled) and uncached (a never-seen token each call). */
export async function benchVerify(issuer: BenchIssuer, clientId: string, clientSecret: string, live: string[], fresh: string[], timeMs: number): Promise<string[]> {
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
