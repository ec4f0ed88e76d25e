#!/usr/bin/env node
// The command line. `tessera/cli` is this package's own export: the compiled dist/cli/main.mjs (built by
// `npm run build`, which `npm ci` runs), or src/cli/main.ts when node runs with
// `--conditions=@tessera/source --import tsx` (how the tests start it, so they never need a rebuild).
const { main } = await import('tessera/cli');
process.exitCode = await main(process.argv.slice(2));
