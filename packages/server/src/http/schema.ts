import { z } from 'zod';

/**
 * Route schemas are written once in zod; Fastify validates with the JSON Schema generated from them (so
 * /openapi.json documents exactly what is enforced), and handlers use the inferred types.
 */
export function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const s = z.toJSONSchema(schema, { target: 'draft-7', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete s.$schema;
  return s;
}

export const Email = z.string().min(3).max(320).regex(/^\s*[^\s@]+@[^\s@]+\s*$/u, 'an email address'); // trimmed before use
export const Password = z.string().min(1).max(4096);

export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  code: z.string(),
  detail: z.string().optional(),
});
