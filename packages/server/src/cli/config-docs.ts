/** Renders docs/configuration.md from the configuration schema, so the documentation cannot drift. */
import { z } from 'zod';
import { configSchema } from '../config.js';

export function renderConfigDocs(): string {
  const rows = Object.entries(configSchema.shape).map(([name, schema]) => {
    const s = schema as z.ZodType;
    const parsed = s.safeParse(undefined);
    const def = parsed.success && parsed.data !== undefined ? `\`${JSON.stringify(parsed.data).replace(/^"|"$/g, "")}\`` : "—";
    return `| \`${name}\` | ${def} | ${(s.description ?? '').replace(/\|/g, '\\|')} |`;
  });
  return [
    '# Configuration',
    '',
    'Generated from `packages/server/src/config.ts` by `npm run docs:config`; a test fails when this file is stale.',
    'Every variable can also be given as a flag of the same name to any `tessera` command (`--PORT=4000`,',
    '`--tessera-database-url sqlite:./x.db`). Values are validated at start-up; an invalid one stops the server',
    'with a message naming it.',
    '',
    '| variable | default | meaning |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
