import { TesseraTokenError } from './errors.js';
import type { AccessTokenClaims } from './jwt.js';

/** A place as your IP database gives it; `accuracyKm` is its uncertainty radius when known. */
export interface GeoPoint {
  lat: number;
  lon: number;
  accuracyKm?: number | null;
}

export interface GeoCheckOptions {
  /** Your offline IP lookup (for example `maxmind` over a city database); null when unknown or private. */
  locate: (ip: string) => GeoPoint | null;
  /** Distance floor after subtracting both accuracy radii, km. Default 500, as the server. */
  minKm?: number;
  /** Implied speed above which the request is refused, km/h. Default 1000, as the server. */
  maxKmh?: number;
  /** Radius assumed when the database gives none, km. Default 50. */
  defaultAccuracyKm?: number;
}

export interface GeoReport {
  /** the access token seen: the issuer verifies it, so a report can only concern a session the caller saw */
  token: string;
  sid: string;
  ip: string;
  userAgent: string | undefined;
}

const EARTH_KM = 6371.0088;
const rad = (d: number) => (d * Math.PI) / 180;

export function haversineKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const h = Math.sin(rad(b.lat - a.lat) / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(rad(b.lon - a.lon) / 2) ** 2;
  return 2 * EARTH_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

function tokenPlace(claims: AccessTokenClaims): GeoPoint | null {
  const loc = claims.loc as { lat?: unknown; lon?: unknown; acc?: unknown } | undefined;
  if (!loc || typeof loc.lat !== 'number' || typeof loc.lon !== 'number') return null;
  return { lat: loc.lat, lon: loc.lon, accuracyKm: typeof loc.acc === 'number' ? loc.acc : null };
}

/**
 * Local impossible-travel check for resource servers. Tessera puts where a token was issued (`loc`, rounded)
 * in the token; a request using it from a place nobody could have reached since `iat` means the token was
 * copied. The verifier refuses it at once (without waiting for the server) and reports it, so the server
 * revokes the session everywhere and makes the user reset the password.
 */
export class GeoCheck {
  readonly #opts: Required<Omit<GeoCheckOptions, 'locate'>> & Pick<GeoCheckOptions, 'locate'>;
  readonly #report: ((r: GeoReport) => void) | undefined;
  /** one report per session is enough: the server revokes it */
  readonly #reported = new Set<string>();

  constructor(opts: GeoCheckOptions, report?: (r: GeoReport) => void) {
    this.#opts = { minKm: 500, maxKmh: 1000, defaultAccuracyKm: 50, ...opts };
    this.#report = report;
  }

  /** `token` is the access token being checked: it goes with the report (none is sent without it). */
  check(claims: AccessTokenClaims, ip: string | undefined, userAgent: string | undefined, nowMs: number, token?: string): void {
    if (!ip) return;
    const from = tokenPlace(claims);
    if (!from) return;
    const to = this.#opts.locate(ip);
    if (!to) return; // private or unknown addresses never trigger travel rules
    const acc = this.#opts.defaultAccuracyKm;
    const km = haversineKm(from, to) - (from.accuracyKm ?? acc) - (to.accuracyKm ?? acc);
    if (km <= this.#opts.minKm) return;
    const hours = Math.max(nowMs - claims.iat * 1000, 1000) / 3_600_000;
    if (km / hours <= this.#opts.maxKmh) return;
    if (this.#report && token !== undefined && !this.#reported.has(claims.sid)) {
      this.#reported.add(claims.sid);
      if (this.#reported.size > 10_000) this.#reported.clear();
      this.#report({ token, sid: claims.sid, ip, userAgent });
    }
    throw new TesseraTokenError('token_revoked', 'impossible_travel');
  }
}
