import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';
import type { z } from 'zod';

const pointer = (path: readonly PropertyKey[]): string => (path.length === 0 ? '' : `/${path.map(String).join('/')}`);

function valueAt(data: unknown, path: readonly PropertyKey[]): { parent: unknown; present: boolean } {
  let parent: unknown = undefined;
  let node: unknown = data;
  for (const key of path) {
    parent = node;
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return { parent, present: false };
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return { parent, present: true };
}

/**
 * Zod issues in the shape Fastify's validation errors have (`keyword`, `instancePath`, `params`), with an
 * unknown field as `additionalProperties` and a missing one as `required`, so http/problem.ts keeps
 * answering "Unknown field "x" in body." and "Missing field "y" in body." exactly as before.
 */
export function toValidationErrors(error: z.ZodError, data: unknown): FastifySchemaValidationError[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return { keyword: 'additionalProperties', instancePath: pointer(issue.path), schemaPath: '', params: { additionalProperty: issue.keys[0] }, message: issue.message };
    }
    const at = valueAt(data, issue.path);
    if (issue.code === 'invalid_type' && issue.path.length > 0 && !at.present && at.parent !== null && typeof at.parent === 'object') {
      const field = String(issue.path.at(-1));
      return { keyword: 'required', instancePath: pointer(issue.path.slice(0, -1)), schemaPath: '', params: { missingProperty: field }, message: `must have field "${field}"` };
    }
    return { keyword: issue.code, instancePath: pointer(issue.path), schemaPath: '', params: {}, message: issue.message };
  });
}

/** Request validation with the route's zod schema; the parsed (and, where declared, trimmed) value replaces the input. */
export const validatorCompiler: FastifySchemaCompiler<z.ZodType> =
  ({ schema }) =>
  (data: unknown) => {
    const result = schema.safeParse(data);
    if (result.success) return { value: result.data };
    return { error: toValidationErrors(result.error, data) };
  };
