import { defineConfig } from 'tsdown';

// One output file per source module (unbundle): dist/ mirrors src/, so paths that modules compute from
// import.meta.url (the pages' public/ folder) hold in both.
export default defineConfig({
  entry: ['src/index.ts', 'src/cli/main.ts'],
  unbundle: true,
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  dts: true,
  clean: true,
  logLevel: 'warn',
  inputOptions: { checks: { pluginTimings: false } },
});
