/**
 * Vitest global setup: the server's pages load the *built* @tessera/browser module, so rebuild it before
 * the tests when a source file is newer than the bundle (or it is missing). Edits under src/ are then
 * tested without a manual `npm run build`.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const BUNDLE = path.join(ROOT, 'dist/index.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : statSync(full).mtimeMs);
  }
  return newest;
}

function bundleTime(): number {
  try {
    return statSync(BUNDLE).mtimeMs;
  } catch {
    return 0;
  }
}

export default function setup(): void {
  const inputs = Math.max(newestSource(path.join(ROOT, 'src')), statSync(path.join(ROOT, 'tsdown.config.ts')).mtimeMs);
  if (bundleTime() >= inputs) return;
  const tsdown = createRequire(import.meta.url).resolve('tsdown/run');
  try {
    execFileSync(process.execPath, [tsdown], { cwd: ROOT, stdio: 'pipe' });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`building @tessera/browser failed:\n${stderr}`);
  }
}
