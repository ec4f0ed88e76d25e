export interface SseEvent {
  event: string;
  data: string;
  id: string | undefined;
}

/**
 * A small text/event-stream parser (WHATWG HTML §9.2.6) fed with decoded text chunks. A line longer than
 * `maxLineLength` aborts the stream: a broken or hostile peer must not make us buffer without bound.
 */
export class SseParser {
  #buf = '';
  #event = '';
  #data: string[] = [];
  #lastEventId: string | undefined;

  constructor(
    private readonly onEvent: (e: SseEvent) => void,
    private readonly maxLineLength = 64 * 1024,
  ) {}

  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }

  push(chunk: string): void {
    this.#buf += chunk;
    let start = 0;
    for (;;) {
      const cr = this.#buf.indexOf('\r', start);
      const lf = this.#buf.indexOf('\n', start);
      if (cr === -1 && lf === -1) break;
      const end = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
      // A trailing CR may be the first half of a CRLF split across chunks: wait for the next chunk.
      if (end === cr && cr === this.#buf.length - 1) break;
      const line = this.#buf.slice(start, end);
      start = end + (end === cr && this.#buf[cr + 1] === '\n' ? 2 : 1);
      this.#line(line);
    }
    this.#buf = this.#buf.slice(start);
    if (this.#buf.length > this.maxLineLength) throw new Error('SSE line too long');
  }

  #line(line: string): void {
    if (line === '') {
      if (this.#data.length > 0) this.onEvent({ event: this.#event || 'message', data: this.#data.join('\n'), id: this.#lastEventId });
      this.#event = '';
      this.#data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#event = value;
    else if (field === 'data') this.#data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.#lastEventId = value;
  }
}
