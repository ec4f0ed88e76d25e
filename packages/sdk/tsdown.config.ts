import { defineConfig } from 'tsdown';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * `@tessera/edge` lands as src/edge/index.ts: set this to true (and keep the "./edge" entry of package.json's
 * `exports`) once that file exists on the branch.
 */
const WITH_EDGE = true;

/**
 * jose is ESM-only. Node ≥ 20.19 `require`s it from our CommonJS build, but TypeScript under
 * `moduleResolution: node16` refuses a CommonJS declaration file importing an ES module (TS1479), so the
 * .d.cts files import jose's types with `resolution-mode: import`, which TypeScript allows there.
 */
async function joseTypesAsImport(chunks: Array<{ fileName: string; outDir: string }>): Promise<void> {
  for (const { fileName, outDir } of chunks) {
    if (!fileName.endsWith('.d.cts')) continue;
    const file = path.join(outDir, fileName);
    const code = (await readFile(file, 'utf8')).replace(/^import \* as (\w+) from "jose";$/gm, 'import type * as $1 from "jose" with { "resolution-mode": "import" };');
    if (/from "jose";$/m.test(code)) throw new Error(`${fileName}: an import from jose that joseTypesAsImport does not rewrite`);
    await writeFile(file, code);
  }
}

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
  hooks: { 'build:done': ({ chunks }) => joseTypesAsImport(chunks) },
  inputOptions: { checks: { pluginTimings: false } },
});
