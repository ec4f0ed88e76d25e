/**
 * A strict JSON check run on JWS headers and payloads before any crypto.
 *
 * Why: `JSON.parse` keeps the *last* of duplicate keys, other parsers keep the first or reject. A token such as
 * `{"alg":"EdDSA","alg":"none"}` or `{"sub":"alice","sub":"admin"}` would then mean different things to a
 * gateway, a log pipeline and this verifier (a parser differential). We refuse duplicates, invalid JSON,
 * and absurd nesting outright, so every party reads the same claims.
 */
const MAX_DEPTH = 16;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;
const LITERALS = ['true', 'false', 'null'];

export class StrictJsonError extends Error {
  constructor(readonly reason: 'duplicate_key' | 'malformed_json') {
    super(reason);
  }
}

export function parseStrictJson(text: string): unknown {
  // Fast path for the common, valid case: the native parser, then cheap checks on what it produced. It
  // accepts only what the scanner below accepts; anything else gets the scanner and its exact reason.
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    value = undefined;
  }
  if (value !== undefined) {
    const kept = keysIn(value, 0);
    if (kept >= 0 && (QUOTE_THEN_SPACE.test(text) ? membersIn(text) : keyEnds(text)) === kept) return value;
  }
  const scanner = new Scanner(text);
  scanner.value(0);
  scanner.ws();
  if (scanner.pos !== text.length) throw new StrictJsonError('malformed_json');
  return JSON.parse(text) as unknown;
}

const QUOTE_THEN_SPACE = /"[ \t\n\r]/;

/**
 * Occurrences of `":` in valid JSON text where no '"' is followed by whitespace: then every key's closing
 * quote is followed at once by its ':', so this is at least the number of members written (a string that
 * starts with ':' or holds an escaped quote adds more, never fewer). Equal to the keys the parser kept, it
 * proves no member was dropped as a duplicate. Found by the engine's substring search, not a loop per char.
 */
function keyEnds(s: string): number {
  let n = 0;
  for (let i = s.indexOf('":'); i !== -1; i = s.indexOf('":', i + 2)) n++;
  return n;
}

/** Members written in valid JSON text: every ':' outside a string separates exactly one key from its value. */
function membersIn(s: string): number {
  let n = 0;
  let i = 0;
  for (;;) {
    const open = s.indexOf('"', i);
    const end = open === -1 ? s.length : open;
    for (; i < end; i++) if (s.charCodeAt(i) === 0x3a) n++;
    if (open === -1) return n;
    // Jump to the closing quote: the first one not escaped by an odd run of backslashes.
    let close = open;
    for (;;) {
      close = s.indexOf('"', close + 1);
      if (close === -1) return -1;
      let b = close - 1;
      while (s.charCodeAt(b) === 0x5c) b--;
      if ((close - 1 - b) % 2 === 0) break;
    }
    i = close + 1;
  }
}

/**
 * Keys the parser kept (a duplicate collapses into one, so fewer than written), or -1 when a value sits
 * deeper than MAX_DEPTH.
 */
function keysIn(v: unknown, depth: number): number {
  if (depth > MAX_DEPTH) return -1;
  if (typeof v !== 'object' || v === null) return 0;
  const values: unknown[] = Array.isArray(v) ? v : Object.values(v);
  let n = Array.isArray(v) ? 0 : values.length;
  for (const item of values) {
    if (typeof item !== 'object' || item === null) {
      if (depth + 1 > MAX_DEPTH) return -1;
      continue;
    }
    const k = keysIn(item, depth + 1);
    if (k < 0) return -1;
    n += k;
  }
  return n;
}

class Scanner {
  pos = 0;
  constructor(private readonly s: string) {}

  ws(): void {
    while (this.pos < this.s.length) {
      const c = this.s.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      this.pos++;
    }
  }

  value(depth: number): void {
    if (depth > MAX_DEPTH) throw new StrictJsonError('malformed_json');
    this.ws();
    const c = this.s[this.pos];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') {
      this.string(false);
      return;
    }
    for (const lit of LITERALS) {
      if (this.s.startsWith(lit, this.pos)) {
        this.pos += lit.length;
        return;
      }
    }
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.s);
    if (!m || m[0].length === 0) throw new StrictJsonError('malformed_json');
    this.pos += m[0].length;
  }

  private object(depth: number): void {
    this.pos++;
    const keys = new Set<string>();
    this.ws();
    if (this.s[this.pos] === '}') {
      this.pos++;
      return;
    }
    for (;;) {
      this.ws();
      if (this.s[this.pos] !== '"') throw new StrictJsonError('malformed_json');
      // Compare decoded keys: "alg" and "\u0061lg" are the same key to every parser.
      const key = this.string(true);
      if (keys.has(key)) throw new StrictJsonError('duplicate_key');
      keys.add(key);
      this.ws();
      if (this.s[this.pos] !== ':') throw new StrictJsonError('malformed_json');
      this.pos++;
      this.value(depth + 1);
      this.ws();
      const c = this.s[this.pos++];
      if (c === '}') return;
      if (c !== ',') throw new StrictJsonError('malformed_json');
    }
  }

  private array(depth: number): void {
    this.pos++;
    this.ws();
    if (this.s[this.pos] === ']') {
      this.pos++;
      return;
    }
    for (;;) {
      this.value(depth + 1);
      this.ws();
      const c = this.s[this.pos++];
      if (c === ']') return;
      if (c !== ',') throw new StrictJsonError('malformed_json');
    }
  }

  /** Scans a string literal at `pos`; returns its decoded value when `decode` (keys), else ''. */
  private string(decode: boolean): string {
    const start = this.pos++;
    let escaped = false;
    for (;;) {
      if (this.pos >= this.s.length) throw new StrictJsonError('malformed_json');
      const c = this.s.charCodeAt(this.pos);
      if (c === 0x22) break;
      if (c < 0x20) throw new StrictJsonError('malformed_json');
      if (c === 0x5c) {
        escaped = true;
        const e = this.s[this.pos + 1];
        if (e === 'u') {
          if (!HEX4.test(this.s.slice(this.pos + 2, this.pos + 6))) throw new StrictJsonError('malformed_json');
          this.pos += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) throw new StrictJsonError('malformed_json');
        this.pos += 2;
        continue;
      }
      this.pos++;
    }
    this.pos++;
    if (!decode) return '';
    // Without a backslash the literal's text is its value; JSON.parse only where escapes need decoding.
    return escaped ? (JSON.parse(this.s.slice(start, this.pos)) as string) : this.s.slice(start + 1, this.pos - 1);
  }
}
