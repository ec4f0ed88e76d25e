import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredRoutes } from '../../src/http/app.js';
import { http, startServer, type TestServer } from '../support/server.js';

const API_MD = fileURLToPath(new URL('../../../../docs/api.md', import.meta.url));
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/**
 * docs/api.md documents an endpoint with a level-3 heading that is exactly one code span,
 * "### `METHOD /path`" (path parameters as {name}). Endpoints not served yet are listed in the
 * "Not implemented yet" section as `METHOD /path` code spans in running text, never as headings.
 */
function parseApiMd(text: string): { documented: string[]; planned: string[] } {
  const documented = [...text.matchAll(/^### `([A-Z]+) (\/\S*)`\s*$/gm)].map((m) => `${m[1]} ${m[2]}`);
  const section = text.split(/^## Not implemented yet\s*$/m)[1] ?? '';
  const planned = [...section.matchAll(/`(GET|POST|PUT|PATCH|DELETE) (\/[^`\s]*)`/g)].map((m) => `${m[1]} ${m[2]}`);
  return { documented, planned };
}

/** Fastify's `:id` as OpenAPI's `{id}`. */
const normal = (url: string) => url.replace(/:([A-Za-z_]+)/g, '{$1}');

describe('docs/api.md, /openapi.json and the registered routes agree', () => {
  let s: TestServer;
  let md: { documented: string[]; planned: string[] };
  let served: Array<{ key: string; hidden: boolean }>;
  let openapi: string[];
  beforeAll(async () => {
    s = await startServer();
    md = parseApiMd(await readFile(API_MD, 'utf8'));
    served = registeredRoutes(s.app)
      // HEAD and the CORS preflight are implied; the Swagger UI's own files and the pages' static
      // assets are not endpoints.
      .filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS' && !r.url.startsWith('/docs/') && !r.url.startsWith('/static/'))
      .map((r) => ({ key: `${r.method} ${normal(r.url)}`, hidden: r.hidden }));
    const doc = (await http<{ paths: Record<string, Record<string, unknown>> }>(s.url, 'GET', '/openapi.json')).body;
    openapi = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).filter((m) => METHODS.includes(m)).map((m) => `${m.toUpperCase()} ${path}`));
  });
  afterAll(async () => s?.close());

  it('parses the marker format', () => {
    const sample = '## A\n### `GET /v1/x/{id}`\ntext `POST /v1/y`\n### Not a marker\n## Not implemented yet\n- `DELETE /v1/z`\n';
    expect(parseApiMd(sample)).toEqual({ documented: ['GET /v1/x/{id}'], planned: ['DELETE /v1/z'] });
  });

  it('documents every registered route in docs/api.md, and nothing that is not served', () => {
    expect(new Set(md.documented).size, 'an endpoint is documented twice').toBe(md.documented.length);
    const keys = served.map((r) => r.key);
    expect(keys.filter((k) => !md.documented.includes(k)), 'routes missing from docs/api.md').toEqual([]);
    expect(md.documented.filter((k) => !keys.includes(k)), 'documented in docs/api.md but not served').toEqual([]);
  });

  it('lists every API route in /openapi.json, and only those', () => {
    const api = served.filter((r) => !r.hidden).map((r) => r.key);
    expect(api.filter((k) => !openapi.includes(k)), 'routes missing from /openapi.json').toEqual([]);
    expect(openapi.filter((k) => !api.includes(k)), 'in /openapi.json but not served').toEqual([]);
    expect(openapi.filter((k) => !md.documented.includes(k)), 'in /openapi.json but not in docs/api.md').toEqual([]);
  });

  it('keeps "Not implemented yet" true: none of those endpoints is served', () => {
    // every planned route may be served by now: then the list names none
    expect(md.planned.length).toBeGreaterThanOrEqual(0);
    const keys = served.map((r) => r.key);
    expect(md.planned.filter((k) => keys.includes(k)), 'served now: document it and take it off the list').toEqual([]);
  });
});
