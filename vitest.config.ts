import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/**/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites start real servers on real ports and share PostgreSQL/Redis; run files one at a time
    // on this 2-core machine so timing assertions are not skewed by neighbours.
    fileParallelism: false,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
