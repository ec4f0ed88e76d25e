import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startServer, type TestServer } from '../support/server.js';

type Operation = {
  summary?: string;
  security?: Array<Record<string, string[]>>;
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { description: string; content?: Record<string, { schema?: unknown }> }>;
};
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, { type: string; scheme?: string; in?: string; name?: string }> } };

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
/** Operations whose success answer has no body by design. */
const EMPTY_SUCCESS = new Set(['post /oauth/revoke']);

describe('the OpenAPI document', () => {
  let s: TestServer;
  let doc: Doc;
  let operations: Array<[string, Operation]>;
  beforeAll(async () => {
    s = await startServer();
    doc = (await http<Doc>(s.url, 'GET', '/openapi.json')).body;
    operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([m]) => METHODS.includes(m))
        .map(([m, o]): [string, Operation] => [`${m} ${path}`, o]),
    );
  });
  afterAll(async () => s?.close());

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    // validate() dereferences in place: give it a copy.
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
  });

  it('gives every operation a summary and a real 2xx response schema', () => {
    expect(operations.length).toBeGreaterThanOrEqual(44);
    for (const [name, o] of operations) {
      expect(o.summary, name).toMatch(/\w{3}/);
      const success = Object.entries(o.responses).filter(([code]) => /^2\d\d$/.test(code));
      expect(success.length, name).toBeGreaterThan(0);
      for (const [code, r] of success) {
        expect(r.description, `${name} ${code}`).not.toBe('Default Response');
        if (code !== '204' && !EMPTY_SUCCESS.has(name)) {
          const media = Object.values(r.content ?? {});
          expect(media.length, `${name} ${code}`).toBeGreaterThan(0);
          for (const m of media) expect(m.schema, `${name} ${code}`).toBeTypeOf('object');
        }
      }
    }
  });

  it('documents every error response as problem+json with the codes of its status', () => {
    for (const [name, o] of operations) {
      const errors = Object.entries(o.responses).filter(([code]) => /^[45]\d\d$/.test(code));
      expect(errors.map(([c]) => c), name).toEqual(expect.arrayContaining(['500', '503']));
      for (const [code, r] of errors) {
        const schema = r.content?.['application/problem+json']?.schema as { properties: { code: { enum?: string[]; const?: string } } } | undefined;
        expect(schema, `${name} ${code}`).toBeDefined();
        const codes = schema!.properties.code.enum ?? [schema!.properties.code.const];
        expect(codes.length, `${name} ${code}`).toBeGreaterThan(0);
      }
    }
    const login = doc.paths['/v1/login'].post;
    expect((login.responses['401'].content!['application/problem+json'].schema as any).properties.code.enum).toContain('invalid_credentials');
    expect(login.responses['429']).toBeDefined();
  });

  it('declares the security schemes and uses them', () => {
    const schemes = doc.components.securitySchemes;
    expect(schemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(schemes.dpop).toMatchObject({ type: 'http', scheme: 'DPoP' });
    expect(schemes.accessCookie).toMatchObject({ type: 'apiKey', in: 'cookie', name: '__Host-tessera_at' });
    expect(schemes.csrfHeader).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-CSRF-Token' });
    expect(schemes.clientBasic).toMatchObject({ type: 'http', scheme: 'basic' });
    // Cookie mode needs the CSRF header on unsafe methods only.
    expect(doc.paths['/v1/me'].get.security).toEqual([{ bearer: [] }, { dpop: [] }, { accessCookie: [] }]);
    expect(doc.paths['/v1/logout'].post.security).toContainEqual({ accessCookie: [], csrfHeader: [] });
    expect(doc.paths['/oauth/introspect'].post.security).toEqual([{ clientBasic: [] }]);
    expect(doc.paths['/v1/revocations'].get.security).toEqual([{ clientBasic: [] }]);
    expect(doc.paths['/v1/login'].post.security).toBeUndefined();
  });

  it('lists form bodies where the OAuth endpoints accept them, and only there', () => {
    const forms = operations.filter(([, o]) => o.requestBody && 'application/x-www-form-urlencoded' in o.requestBody.content).map(([n]) => n);
    expect(forms.sort()).toEqual(['post /oauth/introspect', 'post /oauth/revoke', 'post /oauth/userinfo', 'post /v1/token']);
  });

  it('serves /docs under a strict Content-Security-Policy', async () => {
    for (const path of ['/docs/', '/docs/static/index.html', '/docs/json']) {
      const r = await fetch(`${s.url}${path}`);
      expect(r.status, path).toBe(200);
      const csp = r.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("default-src 'none'");
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/);
      expect(csp, path).toContain("frame-ancestors 'none'");
    }
    // The pages keep their own policy; the /docs one does not leak onto the API.
    expect((await fetch(`${s.url}/healthz`)).headers.get('content-security-policy')).toBeNull();
  });
});
