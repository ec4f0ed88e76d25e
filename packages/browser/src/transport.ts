import type { ApiResponse, HeaderSource } from './types.js';

/** Merge the headers every source adds for this request, in order (a later source wins). */
export async function headersFor(sources: readonly HeaderSource[], method: string, url: string, base: HeadersInit | undefined): Promise<Headers> {
  const headers = new Headers(base);
  for (const source of sources) {
    for (const [name, value] of Object.entries(await source({ method, url }))) headers.set(name, value);
  }
  return headers;
}

/**
 * One JSON request with the session cookies; the body is parsed JSON or null. Rejects on network errors.
 * `observe` sees the raw response first (the DPoP nonce it carries).
 */
export async function sendJson(sources: readonly HeaderSource[], method: string, path: string, body?: unknown, observe?: (res: Response) => void): Promise<ApiResponse> {
  const headers = await headersFor(sources, method, path, { accept: 'application/json' });
  if (body !== undefined) headers.set('content-type', 'application/json');
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  observe?.(res);
  const retryAfter = retryAfterOf(res.headers.get('retry-after'), Date.now());
  return { status: res.status, ok: res.ok, body: await parseBody(res), ...(retryAfter === undefined ? {} : { retryAfter }) };
}

/** `Retry-After` as whole seconds from now: delay-seconds or an HTTP-date (RFC 9110 §10.2.3); else undefined. */
export function retryAfterOf(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  // an HTTP-date names its day and month; Date.parse alone would take "-5" for a year
  const at = /[a-z]/i.test(v) ? Date.parse(v) : NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

async function parseBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** The `code` of a 401 problem response (read from a clone), else undefined. */
export async function refusalCode(res: Response): Promise<unknown> {
  if (res.status !== 401) return undefined;
  const body = await parseBody(res.clone());
  return typeof body === 'object' && body !== null ? (body as { code?: unknown }).code : undefined;
}
