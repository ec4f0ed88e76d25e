/**
 * Security review, item 8: a client trickling a request body, or opening socket after socket, cannot pin
 * the server's connections.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startServer, type TestServer } from '../support/server.js';

/** Resolves with the milliseconds until the server ends the socket, and whatever it answered. */
function untilClosed(socket: net.Socket): Promise<{ ms: number; answer: string }> {
  const t0 = Date.now();
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString()));
  return new Promise((resolve) => socket.once('close', () => resolve({ ms: Date.now() - t0, answer })));
}

const connect = (port: number) =>
  new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });

describe('slow clients', () => {
  let s: TestServer;
  let port: number;
  beforeAll(async () => {
    s = await startServer({ env: { TESSERA_REQUEST_TIMEOUT: '2', TESSERA_MAX_CONNECTIONS_PER_IP: '6' } });
    port = Number(new URL(s.url).port);
  });
  afterAll(async () => s?.close());

  it('a body trickled a byte at a time is cut off after the request timeout', async () => {
    const socket = await connect(port);
    const closed = untilClosed(socket);
    socket.write('POST /v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{');
    // A byte every 200 ms: never idle, so only a whole-request deadline stops it.
    const drip = setInterval(() => {
      if (!socket.destroyed) socket.write(' ');
    }, 200);
    try {
      const { ms, answer } = await closed;
      expect(ms).toBeLessThan(5000);
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      clearInterval(drip);
    }
    // The server itself is fine.
    expect((await http(s.url, 'GET', '/healthz')).status).toBe(200);
  });

  it('connections beyond the per-address bound are closed at once; the others keep working', async () => {
    const sockets = await Promise.all(Array.from({ length: 6 }, () => connect(port)));
    try {
      const extra = await connect(port);
      const { ms } = await untilClosed(extra);
      expect(ms).toBeLessThan(1000);
      // One of the held connections still serves a request.
      const [held] = sockets;
      const answered = new Promise<string>((resolve) => held.once('data', (d: Buffer) => resolve(d.toString())));
      held.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      expect(await answered).toMatch(/^HTTP\/1\.1 200/);
    } finally {
      for (const so of sockets) so.destroy();
    }
    // Closed connections free their places.
    await new Promise((r) => setTimeout(r, 100));
    expect((await http(s.url, 'GET', '/healthz')).status).toBe(200);
  });
});
