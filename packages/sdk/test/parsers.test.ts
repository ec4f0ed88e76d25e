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
    // Aimed at the fast path's count of `":`: a space before a colon, or strings that add colons of their own.
    ['{"a" :1,"a":2}', 'duplicate_key'],
    ['{"a":1,"a"\t:2,"b":":"}', 'duplicate_key'],
    ['{"a":"x\\":","a":1}', 'duplicate_key'],
    ['{"a":":","b":{"c":1,"c":2}}', 'duplicate_key'],
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

describe('parseStrictJson against the scanner (randomised)', () => {
  // The fast path (JSON.parse and counting) must agree with the reference scanner on every input: a
  // duplicate it missed would be a parser differential, the very thing the strict check exists to stop.
  let seed = 42;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const ws = (): string => [' ', '', '', '\t', '\n'][rnd(5)];
  const str = (): string => JSON.stringify(['a', 'b', ':', '":', 'a:b', '\\', '"', ' x', 'é'][rnd(9)]).replace('a', rnd(4) === 0 ? '\\u0061' : 'a');
  const value = (depth: number): string => {
    const r = rnd(depth > 2 ? 3 : 5);
    if (r === 0) return String(rnd(100));
    if (r === 1) return str();
    if (r === 2) return ['true', 'null', '-1.5e3'][rnd(3)];
    if (r === 3) return `[${Array.from({ length: rnd(3) }, () => ws() + value(depth + 1) + ws()).join(',')}]`;
    return object(depth + 1);
  };
  const object = (depth: number): string =>
    `{${Array.from({ length: rnd(4) }, () => `${ws()}${str()}${ws()}:${ws()}${value(depth)}${ws()}`).join(',')}}`;

  it('gives the same verdict and value as the scanner on 3,000 generated documents', () => {
    let duplicates = 0;
    for (let i = 0; i < 3000; i++) {
      const text = object(0);
      const reference = referenceVerdict(text);
      if (reference === 'duplicate_key') duplicates++;
      if (reference === 'ok') expect(parseStrictJson(text), text).toEqual(JSON.parse(text));
      else expect(() => parseStrictJson(text), text).toThrow(reference);
    }
    expect(duplicates).toBeGreaterThan(100);
  });
});

/** Duplicate keys found the slow, obvious way: parse with a reviver that sees every member of every object. */
function referenceVerdict(text: string): 'ok' | 'duplicate_key' {
  // JSON.parse keeps one of each duplicate, so count members written per object with a tiny tokenizer instead.
  let i = 0;
  const stack: Set<string>[] = [];
  let expectKey = false;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const s = JSON.parse(text.slice(i, j + 1)) as string;
      i = j + 1;
      if (expectKey) {
        const keys = stack[stack.length - 1];
        if (keys.has(s)) return 'duplicate_key';
        keys.add(s);
        expectKey = false;
      }
      continue;
    }
    if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '}') stack.pop();
    else if (c === ',') expectKey = stack.length > 0 && isInObject(text, i);
    i++;
  }
  return 'ok';
}

/** Whether the comma at `at` separates members of an object (not elements of an array). */
function isInObject(text: string, at: number): boolean {
  let depth = 0;
  for (let i = at - 1; i >= 0; i--) {
    const c = text[i];
    if (c === '"') {
      // skip back over a string literal
      i--;
      while (i >= 0 && !(text[i] === '"' && !isEscaped(text, i))) i--;
      continue;
    }
    if (c === '}' || c === ']') depth++;
    else if (c === '{' || c === '[') {
      if (depth === 0) return c === '{';
      depth--;
    }
  }
  return false;
}

function isEscaped(text: string, at: number): boolean {
  let n = 0;
  for (let i = at - 1; i >= 0 && text[i] === '\\'; i--) n++;
  return n % 2 === 1;
}

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

  it('keeps exact LRU order while it reuses evicted nodes', () => {
    const c = new LruCache<number, number>(3);
    const model: number[] = [];
    let seed = 7;
    for (let i = 0; i < 2000; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const k = (seed >>> 8) % 6;
      const at = model.indexOf(k);
      if ((seed >>> 4) % 3 === 0) {
        expect(c.get(k), `get ${k}`).toBe(at === -1 ? undefined : k * 10);
        if (at !== -1) model.push(...model.splice(at, 1));
      } else {
        c.set(k, k * 10);
        if (at !== -1) model.splice(at, 1);
        model.push(k);
        if (model.length > 3) model.shift();
      }
      expect(c.size).toBe(model.length);
    }
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

  it('never misses a revoked sid or sub through growth, sweeps and rebuilds of its filters (randomised)', () => {
    // The filters in front of the Maps may say "maybe" for a stranger, never "no" for a revoked session.
    const s = new RevocationSet();
    const at = (ms: number): string => new Date(ms).toISOString();
    const t = Date.parse('2030-01-01T00:00:00Z');
    const live = new Map<string, number>();
    let seed = 7;
    const rand = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 3000; i++) {
        const id = `${round}-${i}-${Math.floor(rand() * 1e9).toString(36)}`;
        const until = t + Math.floor(rand() * 6) * 60_000;
        s.add({ sid: `sid-${id}`, sub: `sub-${id}`, revoked_at: at(t), until: at(until) });
        live.set(id, Math.max(until, live.get(id) ?? 0));
      }
      // Sweeping forgets about half of them each round, which makes the filters rebuild.
      const now = t + round * 60_000 - 1;
      s.sweep(now);
      for (const [id, until] of live) if (until < now) live.delete(id);
      expect(s.sizes.sids).toBe(live.size);
      for (const id of live.keys()) {
        expect(s.isRevoked(`sid-${id}`, 'nobody', 0)).toBe(true);
        expect(s.isRevoked('no-such-session', `sub-${id}`, t / 1000)).toBe(true);
      }
    }
    let strangers = 0;
    for (let i = 0; i < 5000; i++) if (s.isRevoked(`sid-stranger-${i}`, `sub-stranger-${i}`, t / 1000)) strangers++;
    expect(strangers).toBe(0);
  });
});
