/**
 * Closed-loop HTTP load for requests that depend on the previous answer (a refresh chain) or that are slow
 * (logins): `concurrency` loops, each on its own keep-alive connection, each sending its next request when
 * the previous one is answered. autocannon cannot carry a value from one response to the next request.
 */
import http from 'node:http';
import net from 'node:net';

export interface LoopResult {
  rate: number;
  ok: number;
  failed: number;
  /** the first failure's status and body, for the report */
  firstFailure?: string;
}

export function request(agent: http.Agent, port: number, method: string, p: string, body: string | undefined, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, agent, headers: { ...headers, ...(body !== undefined ? { 'content-length': Buffer.byteLength(body) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** runs `step(i)` in `concurrency` loops for `seconds`; a step resolves true when it succeeded */
export async function loops(concurrency: number, seconds: number, step: (loop: number) => Promise<{ ok: boolean; detail?: string }>): Promise<LoopResult> {
  const until = Date.now() + seconds * 1000;
  const r: LoopResult = { rate: 0, ok: 0, failed: 0 };
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
      while (Date.now() < until) {
        const s = await step(i);
        if (s.ok) r.ok++;
        else {
          r.failed++;
          r.firstFailure ??= s.detail;
        }
      }
    }),
  );
  r.rate = r.ok / ((Date.now() - t0) / 1000);
  return r;
}

export const agentFor = (concurrency: number): http.Agent => new http.Agent({ keepAlive: true, maxSockets: concurrency });

/**
 * One keep-alive connection speaking just enough HTTP/1.1 for the login rows: a request written as one
 * string, the answer read by its Content-Length. On the 2-core login rows the load generator shares the
 * server's two cores, so its own CPU is taken from the server being measured; node:http's client spent
 * about twice as much per login (the run prints the load generator's CPU per login).
 */
export class RawConnection {
  readonly #socket: net.Socket;
  readonly #ready: Promise<void>;
  #buffered: Buffer = Buffer.alloc(0);
  #waiting: { resolve: (r: { status: number; body: string }) => void; reject: (e: Error) => void } | undefined;

  constructor(port: number) {
    this.#socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    this.#ready = new Promise((resolve, reject) => {
      this.#socket.once('connect', () => resolve());
      this.#socket.once('error', reject);
    });
    this.#socket.on('data', (chunk: Buffer) => {
      this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
      this.#answer();
    });
    const fail = (e: Error) => {
      this.#waiting?.reject(e);
      this.#waiting = undefined;
    };
    this.#socket.on('error', fail);
    this.#socket.on('close', () => fail(new Error('connection closed')));
  }

  /** the answer, once its head and Content-Length bytes of body are in */
  #answer(): void {
    const end = this.#buffered.indexOf('\r\n\r\n');
    const w = this.#waiting;
    if (end < 0 || !w) return;
    const head = this.#buffered.subarray(0, end).toString('latin1');
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    const total = length ? end + 4 + Number(length[1]) : undefined;
    if (total !== undefined && this.#buffered.length < total) return;
    this.#waiting = undefined;
    // the loops send only JSON requests, which Fastify always answers with a Content-Length
    if (total === undefined) return w.reject(new Error(`answer without Content-Length: ${head.slice(0, 200)}`));
    const body = this.#buffered.subarray(end + 4, total).toString();
    this.#buffered = this.#buffered.subarray(total);
    w.resolve({ status: Number(head.slice(9, 12)), body });
  }

  async post(path: string, json: string): Promise<{ status: number; body: string }> {
    await this.#ready;
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.#socket.write(`POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\nuser-agent: bench\r\ncontent-length: ${Buffer.byteLength(json)}\r\n\r\n${json}`);
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}
