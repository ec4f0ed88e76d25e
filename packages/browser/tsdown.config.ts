import { defineConfig } from 'tsdown';

// One self-contained ES module (no imports left), loadable as is by a page (the server serves it as
// /static/tessera-client.js) or through a bundler, with its declaration file.
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  platform: 'browser',
  target: 'es2022',
  dts: true,
  clean: true,
  logLevel: 'warn',
  inputOptions: { checks: { pluginTimings: false } },
});
