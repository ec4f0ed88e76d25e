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

export class StrictJsonError extends Error {
  constructor(readonly reason: 'duplicate_key' | 'malformed_json') {
    super(reason);
  }
}

export function parseStrictJson(text: string): unknown {
  const scanner = new Scanner(text);
  scanner.value(0);
  scanner.ws();
  if (scanner.pos !== text.length) throw new StrictJsonError('malformed_json');
  return JSON.parse(text) as unknown;
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
      this.string();
      return;
    }
    for (const lit of ['true', 'false', 'null']) {
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
      const key = this.string();
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

  /** Scans a string literal at `pos` and returns its decoded value. */
  private string(): string {
    const start = this.pos++;
    for (;;) {
      if (this.pos >= this.s.length) throw new StrictJsonError('malformed_json');
      const c = this.s.charCodeAt(this.pos);
      if (c === 0x22) break;
      if (c < 0x20) throw new StrictJsonError('malformed_json');
      if (c === 0x5c) {
        const e = this.s[this.pos + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(this.s.slice(this.pos + 2, this.pos + 6))) throw new StrictJsonError('malformed_json');
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
    return JSON.parse(this.s.slice(start, this.pos)) as string;
  }
}
