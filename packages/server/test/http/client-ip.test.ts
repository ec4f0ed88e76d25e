import { describe, expect, it } from 'vitest';
import { makeClientIp, normalizeIp, parseTrustProxy } from '../../src/lib/client-ip.js';

describe('client IP without trusted proxies', () => {
  const clientIp = makeClientIp(undefined);

  it('is the socket address', () => {
    expect(clientIp('203.0.113.7', undefined)).toBe('203.0.113.7');
  });

  it('attack: a spoofed X-Forwarded-For changes nothing', () => {
    expect(clientIp('203.0.113.7', '1.2.3.4')).toBe('203.0.113.7');
    expect(clientIp('127.0.0.1', ['8.8.8.8', '9.9.9.9'])).toBe('127.0.0.1');
  });

  it('normalises IPv4-mapped IPv6 and IPv6 spelling', () => {
    expect(clientIp('::ffff:203.0.113.7', undefined)).toBe('203.0.113.7');
    expect(clientIp('2001:DB8:0:0:0:0:0:1', undefined)).toBe('2001:db8::1');
  });

  it('an empty TESSERA_TRUST_PROXY trusts nobody', () => {
    expect(makeClientIp('  ')('10.0.0.1', '1.2.3.4')).toBe('10.0.0.1');
  });
});

describe('client IP behind trusted proxies', () => {
  it('loopback: the hop before the local proxy is the client', () => {
    const clientIp = makeClientIp('loopback');
    expect(clientIp('127.0.0.1', '198.51.100.9')).toBe('198.51.100.9');
    expect(clientIp('::1', '198.51.100.9')).toBe('198.51.100.9');
    expect(clientIp('::ffff:127.0.0.1', '198.51.100.9')).toBe('198.51.100.9');
  });

  it('attack: an untrusted peer sending X-Forwarded-For is itself the client', () => {
    const clientIp = makeClientIp('loopback, 10.0.0.0/8');
    expect(clientIp('203.0.113.7', '127.0.0.1, 10.0.0.5')).toBe('203.0.113.7');
  });

  it('attack: entries the client prepends are ignored; the walk stops at the first untrusted hop', () => {
    const clientIp = makeClientIp('10.0.0.0/8');
    // client sent "X-Forwarded-For: 6.6.6.6"; the proxy appended the real peer 198.51.100.9
    expect(clientIp('10.0.0.2', '6.6.6.6, 198.51.100.9')).toBe('198.51.100.9');
    // two trusted proxies in a row
    expect(clientIp('10.0.0.2', '6.6.6.6, 198.51.100.9, 10.1.2.3')).toBe('198.51.100.9');
    // multiple header lines are one list
    expect(clientIp('10.0.0.2', ['6.6.6.6', '198.51.100.9, 10.1.2.3'])).toBe('198.51.100.9');
  });

  it('IPv6 CIDRs and mapped addresses', () => {
    const clientIp = makeClientIp('2001:db8:aaaa::/48');
    expect(clientIp('2001:db8:aaaa::1', '::ffff:198.51.100.9')).toBe('198.51.100.9');
    expect(clientIp('2001:db8:aaaa::1', '2001:DB8:BBBB::0001')).toBe('2001:db8:bbbb::1');
  });

  it('all hops trusted: the leftmost one', () => {
    const clientIp = makeClientIp('10.0.0.0/8');
    expect(clientIp('10.0.0.2', '10.9.9.9, 10.1.1.1')).toBe('10.9.9.9');
  });

  it('no header: the socket address', () => {
    expect(makeClientIp('loopback')('127.0.0.1', undefined)).toBe('127.0.0.1');
  });

  it('strips ports some proxies append', () => {
    const clientIp = makeClientIp('loopback');
    expect(clientIp('127.0.0.1', '198.51.100.9:5123')).toBe('198.51.100.9');
    expect(clientIp('127.0.0.1', '[2001:db8::7]:443')).toBe('2001:db8::7');
  });

  it('attack: garbage or legacy IPv4 spellings never become the client address', () => {
    const clientIp = makeClientIp('loopback');
    expect(clientIp('127.0.0.1', 'evil<script>')).toBe('127.0.0.1');
    expect(clientIp('127.0.0.1', '0x7f.1')).toBe('127.0.0.1');
    expect(clientIp('127.0.0.1', 'unknown, 198.51.100.9')).toBe('198.51.100.9');
  });
});

describe('TESSERA_TRUST_PROXY parsing', () => {
  it('accepts keywords, CIDRs and bare addresses', () => {
    expect(parseTrustProxy('loopback,uniquelocal 192.0.2.1 2001:db8::/32')).toHaveLength(2 + 4 + 1 + 1);
  });

  it('refuses nonsense at start-up rather than trusting it', () => {
    expect(() => parseTrustProxy('everyone')).toThrow(TypeError);
    expect(() => parseTrustProxy('10.0.0.0/99')).toThrow(TypeError);
  });

  it('normalizeIp leaves non-addresses untouched', () => {
    expect(normalizeIp('::ffff:1.2.3.4')).toBe('1.2.3.4');
    expect(normalizeIp('nope')).toBe('nope');
  });
});
