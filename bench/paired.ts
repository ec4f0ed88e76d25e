/**
 * `npm run bench:paired`: what a never-seen token costs the SDK over the raw node:crypto hook, in process and
 * paired, so the answer is steadier than the HTTP bench's (whose rows move by ±5 % between server processes).
 * Chunks of new tokens go through the raw hook, the SDK, the raw hook again; the SDK's cost is its chunk
 * minus the mean of the two raw chunks around it, in CPU µs per token, and the median over many such
 * triples is printed. Pinned to core 1 like the bench runner.
 */
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { compileJwtOptions, verifyAccessTokenJwtNow } from '../packages/sdk/src/jwt.js';
import { createVerifier, verifyNowOf } from '../packages/sdk/src/verifier.js';
import { BenchIssuer, CLIENT_ID, CLIENT_SECRET } from './issuer.js';

const CHUNK = 200;
const TRIPLES = Number(process.argv.find((a) => a.startsWith('--triples='))?.slice(10) ?? 40);
if (availableParallelism() >= 2) execFileSync('taskset', ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' });

const issuer = await new BenchIssuer(100_000).start();
const url = issuer.url;
const key = createPublicKey(issuer.ed.publicPem);
const verifier = createVerifier({ issuer: url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, algorithms: ['EdDSA'], ed25519Backend: 'node:crypto' });
await verifier.ready();
while (verifier.stats().revocations.sids < 100_000) await new Promise((r) => setTimeout(r, 50));
const now = verifyNowOf(verifier)!;
// Both sides check Ed25519 with node:crypto, so the difference is the SDK's own work.
const jwtOpts = compileJwtOptions({ issuer: url, audience: url, algorithms: ['EdDSA'], ed25519Backend: 'node:crypto' });

/** The bench server's raw hook, without Fastify. */
const raw = (token: string): void => {
  const dot1 = token.indexOf('.');
  const dot2 = token.indexOf('.', dot1 + 1);
  if (!cryptoVerify(null, Buffer.from(token.slice(0, dot2)), key, Buffer.from(token.slice(dot2 + 1), 'base64url'))) throw new Error('signature');
  const claims = JSON.parse(Buffer.from(token.slice(dot1 + 1, dot2), 'base64url').toString()) as { exp: number; iss: string; aud: string };
  if (claims.exp <= Date.now() / 1000 || claims.iss !== url || claims.aud !== url) throw new Error('claims');
};
const variants: Record<string, (token: string) => void> = {
  'strict core (verifyAccessTokenJwtNow)': (t) => void verifyAccessTokenJwtNow(t, () => key, jwtOpts),
  'verifier (core + cache insert + revocation lookup)': (t) => {
    if (now(t) === undefined) throw new Error('not answered synchronously');
  },
};

// The HTTP bench's uncached row runs with a full cache after its first 10,000 requests: start from there.
const FILL = 10_000;
const tokens = Array.from({ length: FILL + CHUNK * TRIPLES * 3 * Object.keys(variants).length }, () => issuer.mint(issuer.ed));
let next = 0;
while (next < FILL) now(tokens[next++]);
const cpu = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const chunk = (f: (token: string) => void): number => {
  const c0 = cpu();
  for (let i = 0; i < CHUNK; i++) f(tokens[next++]);
  return (cpu() - c0) / CHUNK;
};
const rawCosts: number[] = [];
const extra = new Map<string, number[]>();
for (let t = 0; t < TRIPLES; t++) {
  for (const [name, f] of Object.entries(variants)) {
    // Let the revocation feed's heartbeats in, or the verifier would (rightly) call the feed stale.
    await new Promise((r) => setImmediate(r));
    const a = chunk(raw);
    const x = chunk(f);
    const b = chunk(raw);
    rawCosts.push(a, b);
    extra.set(name, [...(extra.get(name) ?? []), x - (a + b) / 2]);
  }
}
const median = (xs: number[]): number => [...xs].sort((p, q) => p - q)[xs.length >> 1];
const base = median(rawCosts);
console.log(`raw hook: ${base.toFixed(1)} µs CPU per new token (median of ${rawCosts.length} chunks of ${CHUNK})`);
for (const [name, xs] of extra) {
  const m = median(xs);
  console.log(`${name}: +${m.toFixed(1)} µs (x${(base / (base + m)).toFixed(3)} of the raw hook's rate), median of ${xs.length} triples`);
}
await verifier.close();
await issuer.close();
process.exit(0);
