/** Renders docs/errors.md from the error tables (the SDK's token errors and the server's), so it cannot drift. */
import { TOKEN_ERRORS } from '@tessera/sdk/edge';
import { ERRORS, type ServerErrorDescription } from '../core/errors.js';
import { challengeFor } from '../http/problem.js';

const cell = (s: string): string => s.replace(/\|/g, '\\|');

function table(entries: Array<[string, ServerErrorDescription]>): string[] {
  const sorted = [...entries].sort(([a, x], [b, y]) => x.status - y.status || a.localeCompare(b));
  return [
    '| code | status | meaning | what to do |',
    '| --- | --- | --- | --- |',
    ...sorted.map(([code, e]) => `| \`${code}\` | ${e.status} | ${cell(e.meaning)} | ${cell(e.action)} |`),
  ];
}

function challenges(): string[] {
  const rows = Object.entries(ERRORS as Record<string, ServerErrorDescription>)
    .filter(([, e]) => e.status === 401)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code]) => `| \`${code}\` | \`${cell(challengeFor(code as keyof typeof ERRORS) ?? '')}\` |`);
  return ['| code | `WWW-Authenticate` (Bearer request; a DPoP request is answered with the DPoP scheme) |', '| --- | --- |', ...rows];
}

export function renderErrorDocs(): string {
  const token = new Set(Object.keys(TOKEN_ERRORS));
  const all = Object.entries(ERRORS as Record<string, ServerErrorDescription>);
  return [
    '# Errors',
    '',
    'Generated from the error tables (`packages/sdk/src/edge/errors.ts`, extended by',
    '`packages/server/src/core/errors.ts`) by `npm run docs:errors`; a test fails when this file is stale.',
    '',
    'Every error is an RFC 9457 problem document (`Content-Type: application/problem+json`):',
    '`{ "type": "https://tessera.dev/problems/<code>", "title", "status", "code", "detail"? }`. Switch on `code`:',
    'codes are stable, titles may be reworded. No stack trace, SQL, path or internal reason is ever part of it.',
    'Error responses are never cached (`Cache-Control: no-store`).',
    '',
    '## Token errors',
    '',
    'Answered alike by Tessera\'s own routes and by resource servers protected with `@tessera/sdk`',
    '(`@tessera/sdk/edge` holds this table).',
    '',
    ...table(all.filter(([code]) => token.has(code))),
    '',
    '## Tessera server errors',
    '',
    ...table(all.filter(([code]) => !token.has(code))),
    '',
    '## Challenges',
    '',
    'Every 401 carries a `WWW-Authenticate` challenge (RFC 6750, RFC 9449; HTTP Basic for client',
    'authentication, RFC 6749). A request without any credential gets `Bearer, DPoP algs="ES256 EdDSA"`;',
    '`insufficient_scope` (403) names the missing scopes in `scope="…"`.',
    '',
    ...challenges(),
    '',
  ].join('\n');
}
