import { readdirSync } from 'node:fs';
import { serializerCompiler as zodProviderSerializer } from 'fastify-type-provider-zod';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { $ZodType } from 'zod/v4/core';
import { directionless, serializerCompiler } from '../../src/http/schemas/compiler.js';
import { Me } from '../../src/http/schemas/account.js';
import { SignedIn } from '../../src/http/schemas/login.js';

const compile = (c: typeof serializerCompiler, schema: z.ZodType) => c({ schema, method: 'GET', url: '/x', httpStatus: '200' });
const dir = new URL('../../src/http/schemas/', import.meta.url);

/** Every response schema the routes declare (per status, and per content type where one is named). */
async function responseSchemas(): Promise<Array<[string, z.ZodType]>> {
  const out: Array<[string, z.ZodType]> = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const mod = (await import(new URL(file, dir).href)) as Record<string, { response?: Record<string, unknown> }>;
    for (const [name, op] of Object.entries(mod)) {
      for (const [status, r] of Object.entries(op?.response ?? {})) {
        const content = (r as { content?: Record<string, { schema: unknown }> }).content;
        const schemas = r instanceof $ZodType ? [r] : Object.values(content ?? {}).map((c) => c.schema);
        for (const s of schemas) if (s instanceof $ZodType) out.push([`${file} ${name} ${status}`, s as z.ZodType]);
      }
    }
  }
  return out;
}

describe('response serialization (http/schemas/compiler.ts)', () => {
  it('tells direction-dependent schemas (codecs, pipes, transforms, defaults) from plain ones, however nested', () => {
    const iso = z.codec(z.iso.datetime(), z.date(), { decode: (s) => new Date(s), encode: (d) => d.toISOString() });
    expect(directionless(Me)).toBe(true);
    expect(directionless(SignedIn)).toBe(true);
    for (const s of [iso, z.object({ a: z.array(z.object({ at: iso })) }), z.union([z.object({ a: z.string() }), z.object({ b: z.string().default('x') })]),
      z.object({ n: z.string().transform((v) => v.length) }), z.object({ n: z.number().catch(0) }).nullable(), z.string().pipe(z.string())]) {
      expect(directionless(s)).toBe(false);
    }
  });

  it('every response schema of the routes is direction-free, so the fast path answers as zod encode would', async () => {
    const all = await responseSchemas();
    expect(all.length).toBeGreaterThan(300);
    for (const [name, s] of all) expect([name, directionless(s)]).toEqual([name, true]);
  });

  it('gives what fastify-type-provider-zod gave: unknown fields stripped, a mismatch refused', () => {
    const me = { id: 'u1', email: 'a@b.c', email_verified: true, roles: [], password_hash: 'secret', mfa: { totp: false, webauthn: false, passkeys: 0, sms: null, recovery_codes_left: 3, secret: 'x' }, created_at: '2026-01-01T00:00:00.000Z' };
    const ours = compile(serializerCompiler, Me);
    const theirs = compile(zodProviderSerializer as typeof serializerCompiler, Me);
    expect(ours(me)).toBe(theirs(me));
    expect(ours(me)).not.toContain('secret');
    const tokens = { access_token: 'a', token_type: 'Bearer', expires_in: 900, refresh_token: 'r', session_id: 's', extra: 1 };
    expect(compile(serializerCompiler, SignedIn)(tokens)).toBe(compile(zodProviderSerializer as typeof serializerCompiler, SignedIn)(tokens));
    for (const bad of [{ ...me, email: 5 }, { ...me, mfa: undefined }, null]) {
      expect(() => ours(bad)).toThrow(expect.objectContaining({ code: 'FST_ERR_RESPONSE_SERIALIZATION' }) as Error);
      expect(() => theirs(bad)).toThrow(expect.objectContaining({ code: 'FST_ERR_RESPONSE_SERIALIZATION' }) as Error);
    }
  });

  it('still encodes a direction-dependent schema', () => {
    const at = z.object({ at: z.codec(z.iso.datetime(), z.date(), { decode: (s) => new Date(s), encode: (d) => d.toISOString() }) });
    expect(compile(serializerCompiler, at)({ at: new Date(0) })).toBe('{"at":"1970-01-01T00:00:00.000Z"}');
  });
});
