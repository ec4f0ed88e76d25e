/** Request headers as a framework hands them over; an array is a header that was sent more than once. */
export type HeaderBag = Record<string, string | string[] | undefined>;

/**
 * The credential-bearing headers of one request, with every occurrence kept. Read them from Node's raw
 * header list: `request.headers` keeps only the first of two Authorization headers, so a proxy and this
 * server could each act on a different one.
 */
export interface CredentialHeaders {
  authorization: string[];
  dpop: string[];
  /** Every Cookie header line (HTTP/2 sends one per cookie). */
  cookie: string[];
  csrf: string[];
}

/** From Node's `rawHeaders` (`request.raw.rawHeaders` in Fastify, `req.rawHeaders` in Express). */
export function credentialHeaders(rawHeaders: readonly string[]): CredentialHeaders {
  const h: CredentialHeaders = { authorization: [], dpop: [], cookie: [], csrf: [] };
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) add(h, rawHeaders[i], rawHeaders[i + 1]);
  return h;
}

/** From a header bag (for frameworks without a raw header list): an array value counts as repeated. */
export function credentialHeadersOf(bag: HeaderBag): CredentialHeaders {
  const h: CredentialHeaders = { authorization: [], dpop: [], cookie: [], csrf: [] };
  for (const [name, value] of Object.entries(bag)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) add(h, name, v);
  }
  return h;
}

function add(h: CredentialHeaders, name: string, value: string): void {
  switch (name.toLowerCase()) {
    case 'authorization':
      h.authorization.push(value);
      break;
    case 'dpop':
      h.dpop.push(value);
      break;
    case 'cookie':
      h.cookie.push(value);
      break;
    case 'x-csrf-token':
      h.csrf.push(value);
      break;
  }
}

/** All values of cookie `name` across the Cookie header lines (more than one: someone planted a second). */
export function cookieValues(lines: readonly string[] | string | undefined, name: string): string[] {
  const out: string[] = [];
  for (const line of typeof lines === 'string' ? [lines] : (lines ?? [])) {
    for (const part of line.split(';')) {
      const eq = part.indexOf('=');
      if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
      let v = part.slice(eq + 1).trim();
      if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
      out.push(v);
    }
  }
  return out;
}
