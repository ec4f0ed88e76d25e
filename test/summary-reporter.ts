import type { Reporter } from 'vitest/reporters';

interface Task {
  type: string;
  mode?: string;
  result?: { state?: string };
  tasks?: Task[];
}

/** Prints one plain closing line, `tests: N passed, N failed, N skipped`, that any CI can read. */
export default class SummaryReporter implements Reporter {
  onFinished(files: Task[] = []): void {
    const count = { passed: 0, failed: 0, skipped: 0 };
    const walk = (t: Task) => {
      if (t.type === 'test') {
        if (t.result?.state === 'pass') count.passed++;
        else if (t.result?.state === 'fail') count.failed++;
        else count.skipped++;
      }
      for (const c of t.tasks ?? []) walk(c);
    };
    for (const f of files) {
      walk(f);
      if (f.result?.state === 'fail' && !(f.tasks ?? []).length) count.failed++; // a file that failed to load
    }
    process.stdout.write(`tests: ${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped\n`);
  }
}
