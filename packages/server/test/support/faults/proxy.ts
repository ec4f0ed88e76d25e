/**
 * A small round-robin HTTP proxy on loopback, standing in for a deployment's load balancer: it polls each
 * node's /readyz and routes to ready nodes (to every node when none is ready, so clients see the nodes' own
 * 503 + Retry-After); a refused connection moves on to the next node (nothing was sent yet); a connection
 * lost mid-request answers 502. Responses stream through (SSE included).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Proxy {
  url: string;
  port: number;
  /** replace the set of nodes (e.g. after a node restarts on a new port) */
  setBackends(urls: string[]): void;
  /** the node URL of each revocation stream passing through right now */
  openStreams(): string[];
  close(): Promise<void>;
}

export async function startProxy(backends: string[], opts: { port?: number } = {}): Promise<Proxy> {
  let nodes = backends.map((u) => new URL(u));
  const ready = new Map<string, boolean>();
  let next = 0;
  const streams = new Map<http.ServerResponse, string>();
  const probe = setInterval(() => {
    for (const n of nodes) {
      fetch(new URL('/readyz', n), { signal: AbortSignal.timeout(1000) })
        .then((r) => ready.set(n.href, r.ok))
        .catch(() => ready.set(n.href, false));
    }
  }, 200);
  probe.unref();

  const pick = (): URL[] => {
    const live = nodes.filter((n) => ready.get(n.href) !== false);
    const pool = live.length > 0 ? live : nodes;
    next = (next + 1) % Math.max(1, pool.length);
    return [...pool.slice(next), ...pool.slice(0, next)];
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => forward(req, res, Buffer.concat(chunks), pick()));
  });
  const forward = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, order: URL[]): void => {
    const target = order[0];
    if (!target) {
      res.writeHead(502, { 'content-type': 'text/plain' }).end('no node reachable');
      return;
    }
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host, 'x-forwarded-for': req.socket.remoteAddress ?? '' } },
      (up) => {
        if (req.url?.startsWith('/v1/revocations/stream')) {
          streams.set(res, target.origin);
          res.once('close', () => streams.delete(res));
        }
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        up.on('error', () => res.destroy());
      },
    );
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (res.headersSent) return void res.destroy();
      // refused: nothing was sent. Reset on a reused keep-alive socket: the node closed it as idle (draining)
      // before our request reached it. Both are safe to send to the next node.
      const unsent = err.code === 'ECONNREFUSED' || (upstream.reusedSocket && err.code === 'ECONNRESET');
      if (unsent && order.length > 1) {
        ready.set(target.href, false);
        return forward(req, res, body, order.slice(1));
      }
      res.writeHead(502, { 'content-type': 'text/plain' }).end('node connection lost');
    });
    res.on('close', () => upstream.destroy());
    upstream.end(body);
  };
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    setBackends: (urls) => {
      nodes = urls.map((u) => new URL(u));
    },
    openStreams: () => [...streams.values()],
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(probe);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
