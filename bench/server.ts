/**
 * One benchmark server: `node --import tsx bench/server.ts <variant>`, run pinned by bench/run.ts. Every
 * variant serves the same `GET /hello`; they differ only in what guards it. Prints `listening <port>`.
 */
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { createRequire } from 'node:module';
import Fastify from 'fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fastifyJwt from '@fastify/jwt';
import { jwtVerify } from 'jose';
import { requireAuth, tesseraAuth } from '../packages/sdk/src/fastify.js';

const variant = process.argv[2] ?? 'bare';
const issuer = process.env.BENCH_ISSUER ?? '';
const edPem = process.env.BENCH_ED_PEM ?? '';
const ecPem = process.env.BENCH_EC_PEM ?? '';
const clientId = process.env.BENCH_CLIENT_ID ?? '';
const clientSecret = process.env.BENCH_CLIENT_SECRET ?? '';

const app = Fastify({ logger: false });
const hello = async (): Promise<{ hello: string }> => ({ hello: 'world' });

type Hook = (request: FastifyRequest, reply: FastifyReply, done?: (err?: Error) => void) => Promise<unknown> | undefined;

const unauthorized = (reply: FastifyReply): FastifyReply => reply.code(401).send({ code: 'invalid_token' });

function bearer(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  return typeof h === 'string' && h.startsWith('Bearer ') ? h.slice(7) : undefined;
}

/**
 * The least a hand-written hook does without a cache: one signature check, the payload parsed, exp/iss/aud
 * compared. `sodium`: the Ed25519 check by libsodium (sodium-native) instead of node:crypto.
 */
function rawHook(alg: 'EdDSA' | 'ES256', sodium?: { crypto_sign_verify_detached(s: Uint8Array, m: Uint8Array, k: Uint8Array): boolean }): Hook {
  const key = createPublicKey(alg === 'EdDSA' ? edPem : ecPem);
  const raw = alg === 'EdDSA' ? Buffer.from(key.export({ format: 'jwk' }).x ?? '', 'base64url') : Buffer.alloc(0);
  return async (request, reply) => {
    const token = bearer(request);
    const dot1 = token?.indexOf('.') ?? -1;
    const dot2 = token?.indexOf('.', dot1 + 1) ?? -1;
    if (token === undefined || dot1 < 0 || dot2 < 0) return unauthorized(reply);
    const data = Buffer.from(token.slice(0, dot2));
    const sig = Buffer.from(token.slice(dot2 + 1), 'base64url');
    const ok =
      alg === 'ES256'
        ? cryptoVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig)
        : sodium
          ? sig.length === 64 && sodium.crypto_sign_verify_detached(sig, data, raw)
          : cryptoVerify(null, data, key, sig);
    if (!ok) return unauthorized(reply);
    const claims = JSON.parse(Buffer.from(token.slice(dot1 + 1, dot2), 'base64url').toString()) as { exp: number; iss: string; aud: string };
    if (claims.exp <= Date.now() / 1000 || claims.iss !== issuer || claims.aud !== issuer) return unauthorized(reply);
    return undefined;
  };
}

async function build(): Promise<Hook | undefined> {
  switch (variant) {
    case 'bare':
      return undefined;
    case 'noop':
      return async () => undefined;
    case 'sdk':
    case 'sdk-node-crypto': {
      const ed25519Backend = variant === 'sdk' ? 'auto' : 'node:crypto';
      await app.register(tesseraAuth, { issuer, clientId, clientSecret, algorithms: ['EdDSA'], ed25519Backend, dpop: false });
      app.get('/__bench/ready', async () => {
        const s = app.tessera.verifier.stats();
        return { ready: s.healthy, sids: s.revocations.sids, cache: s.cache };
      });
      return requireAuth;
    }
    case 'fastify-jwt':
    case 'fastify-jwt-cache': {
      await app.register(fastifyJwt, {
        secret: { public: edPem, private: '' },
        verify: { algorithms: ['EdDSA'], allowedIss: issuer, allowedAud: issuer, ...(variant === 'fastify-jwt-cache' ? { cache: true } : {}) },
      });
      return async (request, reply) => {
        try {
          await request.jwtVerify();
        } catch {
          return unauthorized(reply);
        }
        return undefined;
      };
    }
    case 'jose': {
      const key = createPublicKey(edPem);
      return async (request, reply) => {
        const token = bearer(request);
        if (token === undefined) return unauthorized(reply);
        try {
          await jwtVerify(token, key, { issuer, audience: issuer, algorithms: ['EdDSA'], typ: 'at+jwt' });
        } catch {
          return unauthorized(reply);
        }
        return undefined;
      };
    }
    case 'raw-es256':
      return rawHook('ES256');
    case 'raw-eddsa':
      return rawHook('EdDSA');
    case 'raw-eddsa-sodium':
      return rawHook('EdDSA', createRequire(import.meta.url)('sodium-native'));

    default:
      throw new Error(`unknown variant ${variant}`);
  }
}

const hook = await build();
if (hook) app.get('/hello', { preHandler: hook }, hello);
else app.get('/hello', hello);
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
// BENCH_GC_STATS=1: every 5 s, each server prints its garbage-collection pauses so far (count and ms by kind).
if (process.env.BENCH_GC_STATS) {
  const { PerformanceObserver, constants } = await import('node:perf_hooks');
  const names: Record<number, string> = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak-callbacks',
  };
  const stats: Record<string, { n: number; ms: number }> = {};
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1;
      const s = (stats[names[kind] ?? String(kind)] ??= { n: 0, ms: 0 });
      s.n++;
      s.ms += e.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  const report = (): void => {
    const parts = Object.entries(stats).map(([k, s]) => `${k} ${s.n}x ${s.ms.toFixed(0)} ms`);
    process.stderr.write(`[gc ${variant}] ${parts.join(', ')}; heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB\n`);
  };
  setInterval(report, 5000).unref();
}
