import { describe, expect, it } from 'vitest';
import { GeoCheck, haversineKm, type GeoReport } from '../src/geo.js';
import type { AccessTokenClaims } from '../src/jwt.js';

const T = 1_800_000_000;
const claims = (loc?: unknown): AccessTokenClaims => ({
  iss: 'i', sub: 'u', aud: 'i', exp: T + 300, iat: T, jti: 'j', sid: 's1', auth_time: T, amr: ['pwd'], roles: [], ...(loc ? { loc } : {}),
});
const places: Record<string, { lat: number; lon: number }> = {
  london: { lat: 51.51, lon: -0.09 },
  paris: { lat: 48.86, lon: 2.35 },
  sydney: { lat: -33.87, lon: 151.21 },
};

describe('GeoCheck (SDK local impossible travel)', () => {
  const reports: GeoReport[] = [];
  const check = new GeoCheck({ locate: (ip) => places[ip] ?? null }, (r) => reports.push(r));
  const at = (minutes: number) => T * 1000 + minutes * 60_000;

  it('haversine distances are right', () => {
    expect(Math.round(haversineKm(places.london, places.paris))).toBeGreaterThan(330);
    expect(Math.round(haversineKm(places.london, places.paris))).toBeLessThan(350);
    expect(Math.round(haversineKm(places.london, places.sydney) / 100)).toBe(170);
  });

  it('allows nearby places, unknown addresses and tokens without a location', () => {
    expect(() => check.check(claims({ lat: 51.5, lon: -0.1 }), 'paris', undefined, at(1))).not.toThrow();
    expect(() => check.check(claims({ lat: 51.5, lon: -0.1 }), 'private', undefined, at(1))).not.toThrow();
    expect(() => check.check(claims(), 'sydney', undefined, at(1))).not.toThrow();
    expect(() => check.check(claims({ lat: 51.5, lon: -0.1 }), undefined, undefined, at(1))).not.toThrow();
    expect(() => check.check(claims({ lat: 'x', lon: -0.1 }), 'sydney', undefined, at(1))).not.toThrow();
  });

  it('refuses a token used where nobody could be since it was issued, and reports the session once', () => {
    const token = claims({ lat: 51.5, lon: -0.1 });
    expect(() => check.check(token, 'sydney', 'curl/8', at(3), 'jwt-s1')).toThrow(expect.objectContaining({ code: 'token_revoked', reason: 'impossible_travel' }));
    expect(() => check.check(token, 'sydney', 'curl/8', at(4), 'jwt-s1')).toThrow();
    // the report carries the token seen, so the issuer can verify it concerns a session this caller saw
    expect(reports).toEqual([{ token: 'jwt-s1', sid: 's1', ip: 'sydney', userAgent: 'curl/8' }]);
  });

  it('thresholds are configurable', () => {
    const loose = new GeoCheck({ locate: (ip) => places[ip] ?? null, maxKmh: 1_000_000 });
    expect(() => loose.check(claims({ lat: 51.5, lon: -0.1 }), 'sydney', undefined, at(3))).not.toThrow();
  });
});
