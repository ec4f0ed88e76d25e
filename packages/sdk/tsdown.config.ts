import { defineConfig } from 'tsdown';

/**
 * `@tessera/edge` lands as src/edge/index.ts: set this to true (and keep the "./edge" entry of package.json's
 * `exports`) once that file exists on the branch.
 */
const WITH_EDGE = false;

// One file per source module (unbundle): no shared chunk can drag the Fastify entry into `require('@tessera/sdk')`.
export default defineConfig({
  entry: ['src/index.ts', 'src/fastify.ts', 'src/express.ts', ...(WITH_EDGE ? ['src/edge/index.ts'] : [])],
  unbundle: true,
  format: ['esm', 'cjs'],
  platform: 'node',
  target: 'node20',
  dts: true,
  shims: true,
  clean: true,
  logLevel: 'warn',
  // fastify.ts has a default export (the plugin) beside named ones: CommonJS users read `.default` / named keys.
  outputOptions: { exports: 'named' },
  inputOptions: { checks: { pluginTimings: false } },
});
