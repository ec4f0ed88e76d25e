import type { SharedState } from '../state/types.js';

/**
 * A single-use cache across every node (shared state): the first use of an id within its lifetime
 * passes, every later one is a replay.
 */
export class ReplayCache {
  constructor(
    private readonly state: Pick<SharedState, 'claimOnce'>,
    private readonly prefix: string,
  ) {}

  async isReplay(id: string, ttlMs: number): Promise<boolean> {
    return !(await this.state.claimOnce(`${this.prefix}:${id}`, ttlMs));
  }
}
