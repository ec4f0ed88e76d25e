import { createPublicKey, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const CLIENT_ID = 'bench-rs';
export const CLIENT_SECRET = 'bench-secret';
const PAGE = 20_000;

export interface BenchKey {
  kid: string;
  alg: 'EdDSA' | 'ES256';
  privateKey: KeyObject;
  publicPem: string;
}

function newKey(alg: 'EdDSA' | 'ES256', kid: string): BenchKey {
  const { privateKey, publicKey } = alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, alg, privateKey, publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString() };
}

const b64 = (s: string): string => Buffer.from(s).toString('base64url');

/**
 * A local stand-in for the Tessera issuer: discovery, a JWKS (Ed25519 + P-256), a revocation list of
 * `revoked` random sids (never the sids of the tokens we mint) and an SSE stream that only sends heartbeats.
 */
export class BenchIssuer {
  url = '';
  readonly ed = newKey('EdDSA', 'bench-ed');
  readonly ec = newKey('ES256', 'bench-ec');
  readonly #items: string[] = [];
  readonly #streams = new Set<ServerResponse>();
  readonly #server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', this.url);
    const json = (body: string, headers: Record<string, string> = {}): void => {
      res.writeHead(200, { 'content-type': 'application/json', ...headers });
      res.end(body);
    };
    if (u.pathname === '/.well-known/oauth-authorization-server') {
      return json(JSON.stringify({ issuer: this.url, jwks_uri: `${this.url}/.well-known/jwks.json` }));
    }
    if (u.pathname === '/.well-known/jwks.json') {
      const keys = [this.ed, this.ec].map((k) => ({ ...createPublicKey(k.publicPem).export({ format: 'jwk' }), kid: k.kid, alg: k.alg, use: 'sig' }));
      return json(JSON.stringify({ keys }), { 'cache-control': 'public, max-age=3600' });
    }
    if (u.pathname === '/v1/revocations') {
      const since = Number(u.searchParams.get('since') ?? 0);
      const page = this.#items.slice(since, since + PAGE);
      return json(`{"cursor":${since + page.length},"items":[${page.join(',')}]}`);
    }
    if (u.pathname === '/v1/revocations/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' });
      res.flushHeaders();
      this.#streams.add(res);
      res.on('close', () => this.#streams.delete(res));
      return;
    }
    res.writeHead(404).end();
  });
  #timer: NodeJS.Timeout | undefined;

  constructor(revoked: number) {
    const revokedAt = new Date().toISOString();
    const until = new Date(Date.now() + 3600_000).toISOString();
    for (let i = 1; i <= revoked; i++) {
      this.#items.push(JSON.stringify({ cursor: i, sid: `revoked-${randomUUID()}`, revoked_at: revokedAt, until }));
    }
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    this.#timer = setInterval(() => {
      for (const s of this.#streams) s.write(`event: heartbeat\ndata: {"cursor":${this.#items.length}}\n\n`);
    }, 1000);
    return this;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    for (const s of this.#streams) s.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** An RFC 9068 access token, signed with node:crypto directly (minting 200k with jose takes too long). */
  mint(key: BenchKey, lifetimeSec = 3600, extra: Record<string, unknown> = {}): string {
    const now = Math.floor(Date.now() / 1000);
    const header = b64(JSON.stringify({ alg: key.alg, typ: 'at+jwt', kid: key.kid }));
    const payload = b64(
      JSON.stringify({
        iss: this.url,
        sub: `user-${randomUUID()}`,
        aud: this.url,
        exp: now + lifetimeSec,
        iat: now - 1,
        jti: randomUUID(),
        sid: `sid-${randomUUID()}`,
        auth_time: now - 1,
        amr: ['pwd'],
        roles: ['user'],
        ...extra,
      }),
    );
    const input = `${header}.${payload}`;
    const sig =
      key.alg === 'EdDSA'
        ? sign(null, Buffer.from(input), key.privateKey)
        : sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${sig.toString('base64url')}`;
  }
}
