/**
 * Closed-loop HTTP load for requests that depend on the previous answer (a refresh chain) or that are slow
 * (logins): `concurrency` loops, each on its own keep-alive connection, each sending its next request when
 * the previous one is answered. autocannon cannot carry a value from one response to the next request.
 */
import http from 'node:http';

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
