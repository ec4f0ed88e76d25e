import { describe, expect, it } from 'vitest';
import { parseStrictJson } from '../src/strict-json.js';
import { SseParser } from '../src/sse.js';
import type { SseEvent } from '../src/sse.js';
import { LruCache } from '../src/lru.js';
import { RevocationSet } from '../src/revocations.js';

describe('parseStrictJson', () => {
  it.each([
    ['{"a":1,"a":2}', 'duplicate_key'],
    ['{"a":{"b":1,"b":1}}', 'duplicate_key'],
    ['[{"x":1},{"y":1,"y":2}]', 'duplicate_key'],
    ['{"alg":1,"\\u0061lg":2}', 'duplicate_key'],
    ['{"a":1,}', 'malformed_json'],
    ['{"a":01}', 'malformed_json'],
    ['{"a":"\u0001"}', 'malformed_json'],
    ['{"a":1} x', 'malformed_json'],
    ['{a:1}', 'malformed_json'],
    [`${'['.repeat(40)}${']'.repeat(40)}`, 'malformed_json'],
  ])('refuses %s (%s)', (text, reason) => {
    expect(() => parseStrictJson(text)).toThrow(reason);
  });

  it('accepts ordinary JSON, the same key in sibling objects, and escapes', () => {
    expect(parseStrictJson('{"a":[{"k":1},{"k":2}],"b":"x\\"y\\u00e9","c":-1.5e3,"d":null,"e":true}')).toEqual({
      a: [{ k: 1 }, { k: 2 }],
      b: 'x"yé',
      c: -1500,
      d: null,
      e: true,
    });
  });
});

describe('SseParser', () => {
  const collect = (chunks: string[]) => {
    const events: SseEvent[] = [];
    const p = new SseParser((e) => events.push(e));
    for (const c of chunks) p.push(c);
    return events;
  };

  it('parses events split anywhere, including between CR and LF', () => {
    const text = 'event: revocation\r\nid: 7\r\ndata: {"sid":"s"}\r\n\r\n: comment\r\nevent: heartbeat\ndata: {"cursor":7}\n\n';
    const whole = collect([text]);
    expect(whole).toEqual([
      { event: 'revocation', data: '{"sid":"s"}', id: '7' },
      { event: 'heartbeat', data: '{"cursor":7}', id: '7' },
    ]);
    for (let i = 1; i < text.length; i++) expect(collect([text.slice(0, i), text.slice(i)])).toEqual(whole);
  });

  it('joins multi-line data and defaults the event name', () => {
    expect(collect(['data: a\ndata: b\n\n'])).toEqual([{ event: 'message', data: 'a\nb', id: undefined }]);
  });

  it('refuses an unbounded line', () => {
    const p = new SseParser(() => undefined, 1024);
    expect(() => p.push('data: '.padEnd(2000, 'x'))).toThrow(/too long/);
  });
});

describe('LruCache', () => {
  it('evicts the least recently used entry', () => {
    const c = new LruCache<string, number>(2);
    c.set('a', 1);
    c.set('b', 2);
    c.get('a');
    c.set('c', 3);
    expect([c.get('a'), c.get('b'), c.get('c')]).toEqual([1, undefined, 3]);
  });
});

describe('RevocationSet', () => {
  it('revokes by sid, and by sub for tokens issued at or before revoked_at; sweeps after until', () => {
    const s = new RevocationSet();
    const t = Date.parse('2030-01-01T00:00:00Z');
    expect(s.add({ sid: 's1', revoked_at: new Date(t).toISOString(), until: new Date(t + 60_000).toISOString() })).toBe(true);
    expect(s.add({ sub: 'u1', revoked_at: new Date(t).toISOString(), until: new Date(t + 60_000).toISOString() })).toBe(true);
    expect(s.add({ sid: 's2' })).toBe(false);
    expect(s.isRevoked('s1', 'x', 0)).toBe(true);
    expect(s.isRevoked('s9', 'u1', t / 1000)).toBe(true);
    expect(s.isRevoked('s9', 'u1', t / 1000 + 1)).toBe(false);
    s.sweep(t + 61_000);
    expect(s.sizes).toEqual({ sids: 0, subs: 0 });
  });
});
