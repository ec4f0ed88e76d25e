/** Helpers of the packaging test: fresh builds, child processes with a clean npm environment, the temp project. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const PACKAGES = ['packages/sdk', 'packages/browser', 'packages/server'];

/** The environment without what npm sets for a script (or NODE_OPTIONS), so a child npm sees only its own project. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_|^NODE_OPTIONS$|^INIT_CWD$/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

export function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: opts.cwd, env: opts.env ?? cleanEnv(), timeout: opts.timeoutMs ?? 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export async function ok(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${opts.cwd}) exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }
  return t;
}

/** Packages whose dist/ is missing or older than their sources, package.json or build config. */
export function staleBuilds(): string[] {
  return PACKAGES.filter((p) => {
    const dir = path.join(REPO, p);
    const inputs = Math.max(newest(path.join(dir, 'src')), statSync(path.join(dir, 'package.json')).mtimeMs, statSync(path.join(dir, 'tsdown.config.ts')).mtimeMs);
    try {
      return statSync(path.join(dir, 'dist')).mtimeMs < inputs || newest(path.join(dir, 'dist')) < inputs;
    } catch {
      return true;
    }
  });
}

/** Start a long-running command in its own process group; stop() ends the whole group. */
export function startGroup(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string; stop: () => Promise<void> } {
  const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      process.kill(-child.pid!, 'SIGTERM');
      setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 5000).unref();
    });
  return { child, output: () => out, stop };
}

export async function waitForHealth(url: string, child: ChildProcess, output: () => string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited (${child.exitCode}) before answering: ${output()}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > until) throw new Error(`no answer from ${url}/healthz: ${output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
