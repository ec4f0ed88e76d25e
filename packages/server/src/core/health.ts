/** A dependency the node needs to serve requests, and how to tell it answers. */
export type Probe = () => Promise<void>;

export interface ReadinessReport {
  ok: boolean;
  checks: Record<string, 'ok' | 'unreachable'>;
  failures: Array<{ check: string; err: unknown }>;
}

/** Readiness of this node: every dependency answered (`/readyz`). */
export class Readiness {
  constructor(private readonly probes: Record<string, Probe>) {}

  async check(): Promise<ReadinessReport> {
    const report: ReadinessReport = { ok: true, checks: {}, failures: [] };
    for (const [name, probe] of Object.entries(this.probes)) {
      try {
        await probe();
        report.checks[name] = 'ok';
      } catch (err) {
        report.ok = false;
        report.checks[name] = 'unreachable';
        report.failures.push({ check: name, err });
      }
    }
    return report;
  }
}
