/**
 * What a process's resident memory is made of (Linux), for the soak (bench/soak.ts): read inside the server
 * from /proc/self/smaps and V8, so a reader can tell a leak (one part climbing minute after minute) from
 * allocator and garbage-collector noise (parts that move up and down around a level).
 *
 * - `v8`: the JS heap actually resident (V8's physical size of all spaces), with `heapUsed` (live + not yet
 *   collected) inside it, and `young` (the new space) part of it;
 * - `buffers`: ArrayBuffer/Buffer contents held by JS (`arrayBuffers`; the bundled geolocation databases are
 *   ≈ 128 MiB of it, read whole at start);
 * - `argon2`: the memory blocks of the password hashes running now (m KiB each). @node-rs/argon2 links its
 *   own allocator (mimalloc), which maps each block from the system on its own and unmaps it when the hash
 *   ends, so they are found as anonymous mappings of a multiple of that size (adjacent ones merge);
 * - `arenas`: glibc malloc's per-thread arenas (64 MiB-aligned heaps), `brk`: glibc's main heap;
 * - `otherAnon`: every other anonymous mapping (V8's heap pages are in here and subtracted, large mmapped
 *   malloc chunks, thread stacks, ...); `file`: file-backed pages (node, shared libraries, code).
 */
import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface MemoryBreakdown {
  rss: number;
  heapUsed: number;
  v8: number;
  /** of `v8`: the young generation (new space, where every request's garbage is born and mostly dies) */
  young: number;
  buffers: number;
  argon2: number;
  arenas: number;
  brk: number;
  otherAnon: number;
  file: number;
}

const ARENA = 64 << 20;

interface Mapping {
  start: number;
  end: number;
  path: string;
  rss: number;
}

function mappings(): Mapping[] {
  const out: Mapping[] = [];
  let cur: Mapping | undefined;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      cur = { start: parseInt(head[1], 16), end: parseInt(head[2], 16), path: head[3] ?? '', rss: 0 };
      out.push(cur);
    } else if (cur && line.startsWith('Rss:')) {
      cur.rss = Number(/(\d+)/.exec(line)?.[1] ?? 0) * 1024;
    }
  }
  return out;
}

/** `argon2BlockKib`: the argon2 memory cost (KiB); glibc's thread heaps are found as 64 MiB-aligned mappings */
export function memoryBreakdown(argon2BlockKib: number): MemoryBreakdown {
  const block = argon2BlockKib * 1024;
  const maps = mappings();
  const mu = process.memoryUsage();
  const v8 = getHeapStatistics().total_physical_size;
  const young = getHeapSpaceStatistics()
    .filter((sp) => sp.space_name.startsWith('new_'))
    .reduce((n, sp) => n + sp.physical_space_size, 0);
  const b: MemoryBreakdown = { rss: 0, heapUsed: mu.heapUsed, v8, young, buffers: mu.arrayBuffers, argon2: 0, arenas: 0, brk: 0, otherAnon: 0, file: 0 };
  maps.forEach((m, i) => {
    const size = m.end - m.start;
    const next = maps[i + 1];
    b.rss += m.rss;
    if (m.path.startsWith('/')) b.file += m.rss;
    else if (m.path === '[heap]') b.brk += m.rss;
    else if (m.path === '' && size % block === 0 && size % ARENA !== 0) b.argon2 += m.rss;
    // a glibc thread heap: its used part starts on a 64 MiB boundary, the reserved rest (---p) fills the 64 MiB
    else if (m.path === '' && m.start % ARENA === 0 && (size === ARENA || (next?.start === m.end && next.end - m.start === ARENA))) b.arenas += m.rss;
    else b.otherAnon += m.rss;
  });
  // V8's pages are anonymous mappings of their own: count them once, as v8
  b.otherAnon = Math.max(0, b.otherAnon - v8);
  return b;
}

/** What is left after a full, compacting collection (forced here), once V8 has handed the freed pages back. */
export interface Settled {
  /** heapUsed after the collection: the live JS heap. A leak shows as this climbing. */
  live: number;
  /** V8's resident heap and the process's RSS then: the floor the garbage between collections sits on */
  v8: number;
  rss: number;
}

const statusRss = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) * 1024;

/**
 * Forces a full collection and measures the floor under the garbage-collector noise: the garbage V8 lets
 * pile up between two of its own collections (heapUsed minus `live`) only moves RSS up and down.
 */
export async function settle(): Promise<Settled> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  const live = process.memoryUsage().heapUsed;
  // freed pages are unmapped by a background task: give it a moment
  await new Promise((r) => setTimeout(r, 250));
  return { live, v8: getHeapStatistics().total_physical_size, rss: statusRss() };
}
