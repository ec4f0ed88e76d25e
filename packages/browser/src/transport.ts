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
  return { status: res.status, ok: res.ok, body: await parseBody(res) };
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
