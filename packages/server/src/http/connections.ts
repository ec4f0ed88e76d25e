import type { Server, Socket } from 'node:net';
import { formatIp, parseIp, parseTrustProxy } from '../lib/client-ip.js';

/**
 * Bounds the open connections of each peer address. Without it one host can hold every socket the process
 * can open (slow requests, idle keep-alives) and starve everyone else; a connection over the bound is
 * closed at once, before a byte is read. Trusted proxies (TESSERA_TRUST_PROXY) carry many users' traffic
 * and are not bounded. The peer is the socket's address: headers are not read yet, so X-Forwarded-For
 * cannot be used (nor spoofed) here.
 */
export function limitConnectionsPerIp(server: Server, maxPerIp: number, trustProxy: string | undefined): void {
  const trusted = trustProxy ? parseTrustProxy(trustProxy) : [];
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const addr = parseIp(socket.remoteAddress ?? '');
    if (!addr) return;
    if (trusted.some(([range, bits]) => range.kind() === addr.kind() && addr.match(range, bits))) return;
    const key = formatIp(addr);
    const n = (open.get(key) ?? 0) + 1;
    if (n > maxPerIp) {
      socket.destroy();
      return;
    }
    open.set(key, n);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left <= 0) open.delete(key);
      else open.set(key, left);
    });
  });
}
