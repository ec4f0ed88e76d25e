import { defaultClientConditions, defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// The workspace packages export their TypeScript sources under this condition: tests, tsc (customConditions)
// and tsx child processes (--conditions) all run src/ directly, never a stale dist/.
const SOURCE = '@tessera/source';

export default defineConfig({
  resolve: { conditions: [SOURCE, ...defaultClientConditions] },
  ssr: { resolve: { conditions: [SOURCE, ...defaultServerConditions] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/**/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites start real servers on real ports and share PostgreSQL/Redis; run files one at a time
    // on this 2-core machine so timing assertions are not skewed by neighbours.
    fileParallelism: false,
    reporters: ['default', './test/summary-reporter.ts'],
    globalSetup: ['./packages/browser/test/bundle-setup.ts'],
  },
});
