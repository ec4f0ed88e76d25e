/**
 * The per-node memory of where the server's own routes last saw each session (core/risk-service.ts) is an
 * LRU: it is bounded by its capacity, not by how many sessions the node has ever served.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { RiskService, type RiskDeps } from '../../src/core/risk-service.js';
import type { SessionRow, UserRow } from '../../src/store/ports/index.js';

const CAPACITY = 50_000;

describe('RiskService: the own-route memory of sessions', () => {
  it('forgets the least recently seen session beyond its capacity', async () => {
    const clock = new FakeClock();
    const risk = new RiskService({ clock } as unknown as RiskDeps, { issuer: 'https://issuer.example', minKm: 500, maxKmh: 1000 });
    const user = { id: 'usr_1' } as UserRow;
    const session = (id: string): SessionRow => ({ id, userId: 'usr_1', ip: '10.0.0.1', geo: null, lastSeenAt: clock.now(), userAgent: null } as SessionRow);
    let contexts = 0;
    // the context is built only when the address differs from the one remembered (or, unremembered, the session's)
    const context = () => (contexts++, { ip: '10.0.0.2', userAgent: null, geo: null });
    const first = session('ses_first');
    await risk.onAccess(user, first, '10.0.0.2', context);
    await risk.onAccess(user, first, '10.0.0.2', context);
    expect(contexts).toBe(1); // remembered
    for (let i = 0; i < CAPACITY; i++) await risk.onAccess(user, session(`ses_${i}`), '10.0.0.2', context);
    contexts = 0;
    await risk.onAccess(user, first, '10.0.0.2', context);
    expect(contexts).toBe(1); // forgotten: the oldest entry went when the map passed its capacity
  });
});
