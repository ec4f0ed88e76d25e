/**
 * Run as a separate process by store.test.ts: opens the store at argv[2], waits until the epoch-ms instant
 * argv[3] (so that sibling processes, whatever their start-up time, migrate at the same moment) and migrates.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore } from '../../src/store/connect.js';

const [url, startAt] = process.argv.slice(2);
if (!url || !startAt) throw new Error('usage: store-migrate-child.ts URL START_AT_MS');
const store = await openStore(url);
try {
  await sleep(Math.max(0, Number(startAt) - Date.now()));
  await store.migrate();
} finally {
  await store.close();
}
