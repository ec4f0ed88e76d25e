/** `npm run bench:server [-- --quick] [-- --server-rows=refresh-sqlite-1,refresh-oidc]`: only the server rows. */
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { runServerRows } from './server-rows.js';

const quick = process.argv.includes('--quick');
const cores = availableParallelism();
const pinned = cores >= 2;
if (pinned) execFileSync('taskset', ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' });
const t0 = Date.now();
const log = (s: string): void => void process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${s}\n`);
const lines = await runServerRows({ quick, serverCores: pinned ? '0' : undefined, log });
console.log(`\nmachine: ${cores} cores, ${cpus()[0]?.model ?? 'unknown'}, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${new Date().toISOString()}`);
console.log(`servers ${pinned ? 'taskset -c 0 (the 2-core rows taskset -c 0,1)' : 'unpinned'}, load generator ${pinned ? 'taskset -c 1' : 'unpinned'}${quick ? ' (QUICK run: figures are not meaningful)' : ''}\n`);
console.log(lines.join('\n'));
process.exit(0);
