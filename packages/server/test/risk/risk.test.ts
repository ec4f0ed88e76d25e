import { describe, expect, it } from 'vitest';
import { haversineKm } from '@tessera/sdk';
import { assessRisk, userAgentFamily, type RiskObservation, type RiskRule } from '../../src/core/risk.js';
import type { GeoPoint } from '../../src/store/ports/index.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const MIN = 60_000;
const cfg = { minKm: 500, maxKmh: 1000 };

const at = (city: string, country: string, lat: number, lon: number, accuracyKm: number | null = null): GeoPoint & { lat: number; lon: number } => ({ city, country, lat, lon, accuracyKm });
const LONDON = at('London', 'GB', 51.5074, -0.1278);
const PARIS = at('Paris', 'FR', 48.8566, 2.3522);
const SYDNEY = at('Sydney', 'AU', -33.8688, 151.2093);
const TOKYO = at('Tokyo', 'JP', 35.6762, 139.6503);
const MANCHESTER = at('Manchester', 'GB', 53.4808, -2.2426);

const CHROME_WIN_120 = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const CHROME_WIN_121 = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.6167.85 Safari/537.36';
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0';
const SAFARI_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15';

function obs(o: Partial<RiskObservation> & { at: number }): RiskObservation {
  return { ip: '198.51.100.1', geo: null, userAgent: CHROME_WIN_120, kind: 'refresh', ...o };
}

describe('impossible travel', () => {
  it('London → Sydney 10 minutes later is blocked, with places, distance and speed', () => {
    const v = assessRisk([obs({ at: T0, geo: LONDON, kind: 'login' })], obs({ at: T0 + 10 * MIN, geo: SYDNEY, ip: '1.1.1.1' }), cfg);
    expect(v.action).toBe('block');
    if (v.action === 'allow') return;
    expect(v.event).toBe('impossible_travel');
    expect(v.data).toMatchObject({ from: { city: 'London', country: 'GB' }, to: { city: 'Sydney', country: 'AU' }, minutes: 10 });
    expect(v.data.km).toBeGreaterThan(16_900);
    expect(v.data.kmh).toBeGreaterThan(100_000);
  });

  it('London → Paris 1 minute later is allowed: under the distance floor after accuracy radii', () => {
    expect(assessRisk([obs({ at: T0, geo: LONDON })], obs({ at: T0 + MIN, geo: PARIS, kind: 'login' }), cfg)).toEqual({ action: 'allow' });
  });

  it('London → Tokyo 2 days later is allowed (a flight)', () => {
    expect(assessRisk([obs({ at: T0, geo: LONDON })], obs({ at: T0 + 2 * 24 * 60 * MIN, geo: TOKYO, kind: 'login' }), cfg)).toEqual({ action: 'allow' });
  });

  it('London → Tokyo 5 hours later is blocked (faster than a plane)', () => {
    expect(assessRisk([obs({ at: T0, geo: LONDON })], obs({ at: T0 + 300 * MIN, geo: TOKYO }), cfg)).toMatchObject({ action: 'block', event: 'impossible_travel' });
  });

  it('unknown or private addresses (no geolocation) never trigger travel rules', () => {
    expect(assessRisk([obs({ at: T0, geo: LONDON })], obs({ at: T0 + MIN, geo: null, ip: '10.0.0.1' }), cfg)).toEqual({ action: 'allow' });
    expect(assessRisk([obs({ at: T0, geo: null, ip: '10.0.0.1' })], obs({ at: T0 + MIN, geo: SYDNEY }), cfg)).toEqual({ action: 'allow' });
    expect(assessRisk([], obs({ at: T0, geo: SYDNEY }), cfg)).toEqual({ action: 'allow' });
  });

  it('compares with the most recent located observation', () => {
    const history = [obs({ at: T0, geo: SYDNEY }), obs({ at: T0 + 3 * 24 * 60 * MIN, geo: LONDON }), obs({ at: T0 + 3 * 24 * 60 * MIN + 5 * MIN, geo: null })];
    expect(assessRisk(history, obs({ at: T0 + 3 * 24 * 60 * MIN + 10 * MIN, geo: MANCHESTER }), cfg)).toEqual({ action: 'allow' });
  });

  it('wide accuracy radii are subtracted from the distance', () => {
    const fuzzyLondon = { ...LONDON, accuracyKm: 1000 };
    expect(assessRisk([obs({ at: T0, geo: fuzzyLondon })], obs({ at: T0 + MIN, geo: { ...PARIS, accuracyKm: 1000 }, kind: 'login' }), cfg).action).toBe('allow');
    // London → Rome is ~1,430 km: blocked with the default 50 km radii, allowed when the database says ±500 km
    const ROME = at('Rome', 'IT', 41.9028, 12.4964);
    expect(assessRisk([obs({ at: T0, geo: LONDON })], obs({ at: T0 + MIN, geo: ROME }), cfg).action).toBe('block');
    expect(assessRisk([obs({ at: T0, geo: { ...LONDON, accuracyKm: 500 } })], obs({ at: T0 + MIN, geo: { ...ROME, accuracyKm: 500 } }), cfg).action).not.toBe('block');
  });

  it('thresholds are configurable', () => {
    const v = assessRisk([obs({ at: T0, geo: LONDON })], obs({ at: T0 + MIN, geo: PARIS }), { minKm: 100, maxKmh: 1000 });
    expect(v).toMatchObject({ action: 'block', event: 'impossible_travel' });
  });
});

describe('session anomaly', () => {
  it('Chrome on Windows → Firefox on Linux within one session is blocked', () => {
    const v = assessRisk([obs({ at: T0, kind: 'login' })], obs({ at: T0 + MIN, userAgent: FIREFOX_LINUX }), cfg);
    expect(v).toMatchObject({ action: 'block', event: 'session_anomaly' });
    if (v.action !== 'allow') expect(v.data).toMatchObject({ from: { browser: 'Chrome', os: 'Windows' }, to: { browser: 'Firefox', os: 'Linux' } });
  });

  it('a browser update (Chrome 120 → 121) is allowed', () => {
    expect(assessRisk([obs({ at: T0, kind: 'login' })], obs({ at: T0 + 60 * MIN, userAgent: CHROME_WIN_121 }), cfg)).toEqual({ action: 'allow' });
  });

  it('also applies to resource-server reports', () => {
    expect(assessRisk([obs({ at: T0 })], obs({ at: T0 + MIN, kind: 'report', userAgent: SAFARI_MAC }), cfg)).toMatchObject({ action: 'block', event: 'session_anomaly' });
  });

  it('a missing user agent is not evidence of anything', () => {
    expect(assessRisk([obs({ at: T0 })], obs({ at: T0 + MIN, userAgent: null }), cfg)).toEqual({ action: 'allow' });
  });
});

describe('alerts', () => {
  it('a refresh from a new country (possible travel) alerts new_country', () => {
    expect(assessRisk([obs({ at: T0, geo: LONDON })], obs({ at: T0 + 3 * 60 * MIN, geo: PARIS }), cfg)).toMatchObject({ action: 'alert', event: 'new_country' });
  });

  it('a sign-in with a browser the user never used alerts new_device; the first ever sign-in does not', () => {
    const history = [obs({ at: T0, kind: 'login' })];
    expect(assessRisk(history, obs({ at: T0 + MIN, kind: 'login', userAgent: SAFARI_MAC }), cfg)).toMatchObject({ action: 'alert', event: 'new_device' });
    expect(assessRisk([], obs({ at: T0, kind: 'login', userAgent: SAFARI_MAC }), cfg)).toEqual({ action: 'allow' });
    // on a login, another device is a new device, not a hijacked session
    expect(assessRisk(history, obs({ at: T0 + MIN, kind: 'login', userAgent: FIREFOX_LINUX }), cfg).action).toBe('alert');
  });

  it('a block outranks an alert', () => {
    const v = assessRisk([obs({ at: T0, geo: LONDON })], obs({ at: T0 + 10 * MIN, geo: SYDNEY }), cfg);
    expect(v).toMatchObject({ action: 'block', event: 'impossible_travel' });
  });

  it('rules are a list: custom rules can be added', () => {
    const torExit: RiskRule = (_h, c) => (c.ip === '203.0.113.66' ? { action: 'alert', event: 'new_device', reason: 'listed', data: {} } : null);
    expect(assessRisk([], obs({ at: T0, ip: '203.0.113.66' }), cfg, [torExit])).toMatchObject({ action: 'alert', reason: 'listed' });
  });
});

describe('helpers', () => {
  it('haversine distance', () => {
    expect(haversineKm(LONDON, PARIS)).toBeGreaterThan(330);
    expect(haversineKm(LONDON, PARIS)).toBeLessThan(350);
    expect(haversineKm(LONDON, LONDON)).toBe(0);
  });

  it('user-agent families', () => {
    expect(userAgentFamily(CHROME_WIN_120)).toEqual({ browser: 'Chrome', os: 'Windows' });
    expect(userAgentFamily(SAFARI_MAC)).toEqual({ browser: 'Safari', os: 'macOS' });
    expect(userAgentFamily('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91')).toEqual({ browser: 'Edge', os: 'Windows' });
    expect(userAgentFamily('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36')).toEqual({ browser: 'Chrome', os: 'Linux' });
    expect(userAgentFamily('Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1')).toEqual({ browser: 'Chrome', os: 'iOS' });
    expect(userAgentFamily('Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36')).toEqual({ browser: 'Chrome', os: 'Android' });
    expect(userAgentFamily('curl/8.5.0')).toEqual({ browser: 'curl', os: 'other' });
    expect(userAgentFamily('')).toBeNull();
  });
});
