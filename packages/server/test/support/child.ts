/**
 * Child processes of the tests and benchmarks: their output, polling until something holds, waiting for a
 * health check, stopping them. Node built-ins only, so bench/ may import it too.
 */
import type { ChildProcess } from 'node:child_process';

/** Collects the child's piped stdout and stderr into one string. */
export function captureOutput(child: ChildProcess): () => string {
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return () => out;
}

/** SIGTERM, then SIGKILL after `graceMs` if it is still running; resolves once it has exited. */
export function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), graceMs).unref();
  });
}

/** Calls `fn` every `everyMs` until it gives a value (a throw counts as none); throws after `timeoutMs`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000, everyMs = 20): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Polls `${url}/healthz` every 100 ms until it answers 2xx. Throws with the child's output if the child exits
 * first, or (after killing it) when `timeoutMs` passes.
 */
export async function waitHealthy(name: string, url: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}): ${output()}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not start: ${output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
