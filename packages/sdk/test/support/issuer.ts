import { generateKeyPairSync, randomUUID, sign as cryptoSign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';

export interface TestKey {
  kid: string;
  alg: 'EdDSA' | 'ES256';
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: Record<string, unknown>;
}

export function newKey(alg: 'EdDSA' | 'ES256', kid = `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`): TestKey {
  const { privateKey, publicKey } = alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  return { kid, alg, privateKey, publicKey, publicJwk: { ...jwk, kid, alg, use: 'sig' } };
}

export interface FeedItem {
  cursor: number;
  sid?: string;
  sub?: string;
  revoked_at: string;
  until: string;
}

export const CLIENT_ID = 'rs-notes';
export const CLIENT_SECRET = 's3cret+/value';

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/**
 * A fake Tessera issuer on 127.0.0.1:0: RFC 8414 discovery, a JWKS (Ed25519 + P-256), and the revocation
 * feed (cursor list + SSE) with knobs to push items, go silent, refuse connections or drop streams.
 */
export class FakeIssuer {
  url = '';
  keys: TestKey[] = [newKey('EdDSA', 'ed-1'), newKey('ES256', 'ec-1')];
  items: FeedItem[] = [];
  jwksFetches = 0;
  listSince: string[] = [];
  streamSince: { since: string | null; lastEventId: string | undefined }[] = [];
  heartbeatMs = 200;
  /** Streams stay open but send nothing; the list answers 503. */
  silent = false;
  /** New stream connections are answered 503. */
  refuseStreams = false;
  /** Whether a stream replays items after `since` (the list catch-up must work without it). */
  streamReplays = true;
  pageSize = 1000;
  readonly #server = createServer((req, res) => this.#handle(req, res));
  readonly #streams = new Set<ServerResponse>();
  #timer: NodeJS.Timeout | undefined;

  async start(): Promise<this> {
    return this.startOn(0);
  }

  async startOn(port: number): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    this.#timer = setInterval(() => {
      if (this.silent) return;
      for (const s of this.#streams) s.write(`event: heartbeat\ndata: ${JSON.stringify({ cursor: this.head })}\n\n`);
    }, this.heartbeatMs);
    return this;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.dropStreams();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  get head(): number {
    return this.items.at(-1)?.cursor ?? 0;
  }

  get openStreams(): number {
    return this.#streams.size;
  }

  dropStreams(): void {
    for (const s of this.#streams) s.destroy();
    this.#streams.clear();
  }

  /** Appends a revocation and pushes it to every connected stream (unless silent). */
  revoke(target: { sid?: string; sub?: string }, revokedAt = new Date(), ttlSec = 600): FeedItem {
    const item: FeedItem = {
      cursor: this.head + 1,
      ...target,
      revoked_at: revokedAt.toISOString(),
      until: new Date(revokedAt.getTime() + ttlSec * 1000).toISOString(),
    };
    this.items.push(item);
    if (!this.silent) for (const s of this.#streams) s.write(`event: revocation\nid: ${item.cursor}\ndata: ${JSON.stringify(item)}\n\n`);
    return item;
  }

  claims(overrides: Record<string, unknown> = {}, nowSec = Math.floor(Date.now() / 1000)): Record<string, unknown> {
    return {
      iss: this.url,
      sub: 'user-1',
      aud: this.url,
      iat: nowSec - 5,
      exp: nowSec + 300,
      jti: randomUUID(),
      sid: `sid-${randomUUID()}`,
      auth_time: nowSec - 5,
      amr: ['pwd'],
      roles: [],
      ...overrides,
    };
  }

  async sign(claims: Record<string, unknown>, opts: { key?: TestKey; header?: Record<string, unknown> } = {}): Promise<string> {
    const key = opts.key ?? this.keys[0];
    return new SignJWT(claims)
      .setProtectedHeader({ alg: key.alg, typ: 'at+jwt', kid: key.kid, ...opts.header })
      .sign(key.privateKey);
  }

  /** Signs arbitrary header and payload *text* (duplicate keys and all) with a real key. */
  signRaw(headerJson: string, payloadJson: string, key: TestKey = this.keys[0]): string {
    const input = `${b64(headerJson)}.${b64(payloadJson)}`;
    const sig = key.alg === 'EdDSA' ? cryptoSign(null, Buffer.from(input), key.privateKey) : cryptoSign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${sig.toString('base64url')}`;
  }

  #authorized(req: IncomingMessage): boolean {
    const expected = `Basic ${Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`).toString('base64')}`;
    return req.headers.authorization === expected;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const u = new URL(req.url ?? '/', this.url);
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (u.pathname === '/.well-known/oauth-authorization-server') {
      return json(200, { issuer: this.url, jwks_uri: `${this.url}/.well-known/jwks.json` });
    }
    if (u.pathname === '/.well-known/jwks.json') {
      this.jwksFetches++;
      return json(200, { keys: this.keys.map((k) => k.publicJwk) }, { 'cache-control': 'public, max-age=300' });
    }
    if (!u.pathname.startsWith('/v1/revocations')) return json(404, {});
    if (!this.#authorized(req)) return json(401, { code: 'invalid_client' });
    const since = Number(u.searchParams.get('since') ?? 0);
    if (u.pathname === '/v1/revocations') {
      this.listSince.push(u.searchParams.get('since') ?? '');
      if (this.silent) return json(503, {});
      const page = this.items.filter((i) => i.cursor > since).slice(0, this.pageSize);
      return json(200, { cursor: page.at(-1)?.cursor ?? Math.max(since, this.head), items: page });
    }
    if (u.pathname === '/v1/revocations/stream') {
      const lastEventId = req.headers['last-event-id'];
      this.streamSince.push({ since: u.searchParams.get('since'), lastEventId: typeof lastEventId === 'string' ? lastEventId : undefined });
      if (this.refuseStreams) return json(503, {});
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' });
      res.flushHeaders();
      this.#streams.add(res);
      res.on('close', () => this.#streams.delete(res));
      if (this.streamReplays && !this.silent) {
        const from = typeof lastEventId === 'string' ? Number(lastEventId) : since;
        for (const item of this.items.filter((i) => i.cursor > from)) res.write(`event: revocation\nid: ${item.cursor}\ndata: ${JSON.stringify(item)}\n\n`);
      }
      return;
    }
    return json(404, {});
  }
}

export async function waitFor<T>(fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 5000, stepMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('waitFor: timed out');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export async function refusal(p: Promise<unknown>): Promise<{ code: string; reason: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: string; reason?: string };
    return { code: String(e.code), reason: String(e.reason) };
  }
  throw new Error('expected a refusal, got success');
}
