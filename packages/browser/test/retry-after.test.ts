import { describe, expect, it } from 'vitest';
import { retryAfterOf } from '../src/transport.js';

describe('Retry-After as seconds', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');
  it('reads delay-seconds and HTTP-dates, and nothing else', () => {
    expect(retryAfterOf('120', now)).toBe(120);
    expect(retryAfterOf(' 0 ', now)).toBe(0);
    expect(retryAfterOf('Tue, 01 Dec 2026 12:02:30 GMT', now)).toBe(150);
    expect(retryAfterOf('Tue, 01 Dec 2026 11:00:00 GMT', now)).toBe(0); // already past
    expect(retryAfterOf(null, now)).toBeUndefined();
    expect(retryAfterOf('soon', now)).toBeUndefined();
    expect(retryAfterOf('-5', now)).toBeUndefined();
  });
});
