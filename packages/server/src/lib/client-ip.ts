import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { boundedMemo } from './memo.js';

type Addr = ipaddr.IPv4 | ipaddr.IPv6;
type Range = [Addr, number];

const NAMED: Record<string, string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** Strict parse (no `1`, `0x7f.1` or other legacy IPv4 forms); IPv4-mapped IPv6 becomes IPv4. */
export function parseIp(text: string): Addr | null {
  const s = text.trim();
  if (net.isIP(s) === 0) return null;
  const addr = ipaddr.parse(s);
  return addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() ? (addr as ipaddr.IPv6).toIPv4Address() : addr;
}

/** Canonical text of an address: one spelling per address, so it cannot dodge per-IP counters. */
export function formatIp(addr: Addr): string {
  return addr.kind() === 'ipv6' ? (addr as ipaddr.IPv6).toRFC5952String() : addr.toString();
}

export function normalizeIp(text: string): string {
  const a = parseIp(text);
  return a ? formatIp(a) : text;
}

/** `loopback`, `linklocal`, `uniquelocal`, CIDRs and bare addresses, comma or space separated. */
export function parseTrustProxy(spec: string): Range[] {
  const ranges: Range[] = [];
  for (const token of spec.split(/[\s,]+/).filter(Boolean)) {
    for (const item of NAMED[token.toLowerCase()] ?? [token]) {
      if (item.includes('/')) {
        if (!ipaddr.isValidCIDR(item)) throw new TypeError(`TESSERA_TRUST_PROXY: not a CIDR: ${item}`);
        const [addr, bits] = ipaddr.parseCIDR(item);
        ranges.push([addr, bits]);
      } else {
        const addr = parseIp(item);
        if (!addr) throw new TypeError(`TESSERA_TRUST_PROXY: not an address, CIDR or keyword: ${item}`);
        ranges.push([addr, addr.kind() === 'ipv4' ? 32 : 128]);
      }
    }
  }
  return ranges;
}

interface Peer {
  addr: Addr;
  text: string;
  trusted: boolean;
}
const MAX_PEERS = 4096;

/** Strips a port some proxies append (`1.2.3.4:5678`, `[2001:db8::1]:443`). */
function stripPort(hop: string): string {
  const s = hop.trim();
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (v6?.[1]) return v6[1];
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(s);
  return v4?.[1] ?? s;
}

/**
 * Returns the client address for a request. Without trusted proxies it is the socket peer, whatever
 * X-Forwarded-For says (a client would otherwise pick its own rate-limit key and location). With them,
 * X-Forwarded-For is walked from the right — the entries our own proxies appended — skipping trusted hops;
 * the first untrusted hop is the client. Entries left of it were written by the client and are ignored.
 */
export function makeClientIp(trustProxy: string | undefined): (socketIp: string, xff: string | string[] | undefined) => string {
  const ranges = trustProxy?.trim() ? parseTrustProxy(trustProxy) : [];
  const trusted = (a: Addr) => ranges.some(([net_, bits]) => net_.kind() === a.kind() && a.match(net_, bits));
  // The socket peer's parse, by its text: every request of a connection (and of a proxy) has the same one.
  const peerOf = boundedMemo(MAX_PEERS, (socketIp: string): Peer | null => {
    const addr = parseIp(socketIp);
    return addr && { addr, text: formatIp(addr), trusted: trusted(addr) };
  });

  return (socketIp, xff) => {
    const p = peerOf(socketIp);
    if (!p) return socketIp;
    if (!p.trusted || xff === undefined) return p.text;
    const peer = p.addr;
    const hops = (Array.isArray(xff) ? xff.join(',') : xff).split(',').map(stripPort).filter(Boolean);
    let current = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = parseIp(hops[i] ?? '');
      // a malformed entry from a trusted proxy: keep the last address we can vouch for
      if (!hop) return formatIp(current);
      current = hop;
      if (!trusted(hop)) return formatIp(hop);
    }
    return formatIp(current);
  };
}
