import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { TOKEN_ERRORS } from '@tessera/sdk/edge';
import { describe, expect, it } from 'vitest';
import { renderErrorDocs } from '../../src/cli/errors-docs.js';
import { ERRORS, type ServerErrorDescription } from '../../src/core/errors.js';
import { challengeFor } from '../../src/http/problem.js';

describe('the error table', () => {
  it('extends the SDK\'s token errors rather than restating them', () => {
    for (const [code, entry] of Object.entries(TOKEN_ERRORS)) expect(ERRORS[code as keyof typeof ERRORS], code).toBe(entry);
  });

  it('gives every code a status, title, meaning and what to do, and every 401 a challenge', () => {
    for (const [code, e] of Object.entries(ERRORS as Record<string, ServerErrorDescription>)) {
      expect(code).toMatch(/^[a-z][a-z_]+$/);
      for (const text of [e.title, e.meaning, e.action]) expect(text.length, code).toBeGreaterThan(5);
      if (e.status === 401) expect(challengeFor(code as keyof typeof ERRORS), code).toMatch(/^(Bearer|DPoP|Basic)\b/);
    }
  });

  it('docs/errors.md is generated from the tables and up to date (npm run docs:errors)', async () => {
    const file = await readFile(path.resolve(import.meta.dirname, '../../../../docs/errors.md'), 'utf8');
    expect(file).toBe(renderErrorDocs());
  });
});
