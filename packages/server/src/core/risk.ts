import type { GeoPoint } from '../store/ports/index.js';
// One distance formula for the server's risk engine and the SDK's local check.
import { haversineKm } from '@tessera/sdk';

/**
 * The risk engine: pure functions over a request and the history it is compared with (for a refresh or
 * a resource-server report, the session's own observations; for a login, the user's recent sign-ins).
 * Each rule is a small function; the most severe verdict wins (block over alert, then list order).
 */

export interface RiskObservation {
  at: number;
  ip: string | null;
  geo: GeoPoint | null;
  userAgent: string | null;
  /** `access`: an access token used on the server's own routes */
  kind: 'login' | 'refresh' | 'report' | 'access';
}

export type RiskEvent = 'impossible_travel' | 'session_anomaly' | 'new_country' | 'new_device';

export type RiskVerdict =
  | { action: 'allow' }
  | { action: 'alert' | 'block'; event: RiskEvent; reason: string; data: Record<string, unknown> };

export interface RiskConfig {
  /** distance floor after subtracting both accuracy radii, km */
  minKm: number;
  /** implied speed above which travel is impossible, km/h */
  maxKmh: number;
  /** accuracy radius assumed when the database gives none, km (default 50) */
  defaultAccuracyKm?: number;
}

export type RiskRule = (history: readonly RiskObservation[], current: RiskObservation, cfg: RiskConfig) => RiskVerdict | null;

type Located = RiskObservation & { geo: GeoPoint & { lat: number; lon: number } };
const located = (o: RiskObservation): o is Located => o.geo !== null && o.geo.lat !== null && o.geo.lon !== null;

function lastLocated(history: readonly RiskObservation[], before: number): Located | undefined {
  let best: Located | undefined;
  for (const o of history) if (located(o) && o.at <= before && (!best || o.at >= best.at)) best = o;
  return best;
}

const place = (g: GeoPoint | null) => ({ city: g?.city ?? null, country: g?.country ?? null });

/** Two requests farther apart than anyone could travel in between: a stolen token or password in use. */
export const impossibleTravel: RiskRule = (history, current, cfg) => {
  if (!located(current)) return null;
  const prev = lastLocated(history, current.at);
  if (!prev) return null;
  const acc = cfg.defaultAccuracyKm ?? 50;
  const km = haversineKm(prev.geo, current.geo);
  // the database only knows a place within its accuracy radius: give both ends the benefit of the doubt
  const adjustedKm = km - (prev.geo.accuracyKm ?? acc) - (current.geo.accuracyKm ?? acc);
  if (adjustedKm <= cfg.minKm) return null;
  const hours = Math.max(current.at - prev.at, 1000) / 3_600_000;
  const kmh = adjustedKm / hours;
  if (kmh <= cfg.maxKmh) return null;
  return {
    action: 'block',
    event: 'impossible_travel',
    reason: `${Math.round(km)} km in ${Math.round((current.at - prev.at) / 60_000)} min (${Math.round(kmh)} km/h)`,
    data: {
      from: place(prev.geo),
      to: place(current.geo),
      fromIp: prev.ip,
      toIp: current.ip,
      km: Math.round(km),
      adjustedKm: Math.round(adjustedKm),
      kmh: Math.round(kmh),
      minutes: Math.round((current.at - prev.at) / 60_000),
    },
  };
};

/** Browser and OS family only: updates change versions, not families. */
export function userAgentFamily(ua: string | null): { browser: string; os: string } | null {
  if (!ua?.trim()) return null;
  const browser =
    /\bEdg(?:e|A|iOS)?\//.test(ua) ? 'Edge'
    : /\b(?:OPR|Opera)\//.test(ua) ? 'Opera'
    : /\bSamsungBrowser\//.test(ua) ? 'Samsung Internet'
    : /\b(?:Firefox|FxiOS)\//.test(ua) ? 'Firefox'
    : /\b(?:Headless)?(?:Chrome|Chromium|CriOS)\//.test(ua) ? 'Chrome'
    : /\bVersion\/[\d.]+.*\bSafari\//.test(ua) ? 'Safari'
    : (/^([A-Za-z][\w.-]*)\//.exec(ua.trim())?.[1] ?? 'other').toLowerCase();
  const os =
    /\bWindows\b/.test(ua) ? 'Windows'
    : /\b(?:iPhone|iPad|iPod)\b/.test(ua) ? 'iOS'
    : /\bAndroid\b/.test(ua) ? 'Android'
    : /\bCrOS\b/.test(ua) ? 'ChromeOS'
    : /\b(?:Macintosh|Mac OS X)\b/.test(ua) ? 'macOS'
    : /\bLinux\b/.test(ua) ? 'Linux'
    : 'other';
  return { browser, os };
}

const sameFamily = (a: { browser: string; os: string }, b: { browser: string; os: string }) => a.browser === b.browser && a.os === b.os;
const describeFamily = (f: { browser: string; os: string }) => `${f.browser} on ${f.os}`;

/** A session that moves to another browser or OS mid-life: its refresh token or cookie was copied. */
export const sessionAnomaly: RiskRule = (history, current) => {
  if (current.kind === 'login') return null;
  const now = userAgentFamily(current.userAgent);
  if (!now) return null;
  let prev: RiskObservation | undefined;
  for (const o of history) if (o.userAgent && o.at <= current.at && (!prev || o.at >= prev.at)) prev = o;
  const before = userAgentFamily(prev?.userAgent ?? null);
  if (!before || sameFamily(before, now)) return null;
  return {
    action: 'block',
    event: 'session_anomaly',
    reason: `user agent changed from ${describeFamily(before)} to ${describeFamily(now)}`,
    data: { from: before, to: now, ip: current.ip, location: place(current.geo) },
  };
};

/** A live session surfacing in another country (possible, but worth telling the user). */
export const newCountry: RiskRule = (history, current) => {
  if (current.kind === 'login' || !current.geo?.country) return null;
  const prev = lastLocated(history, current.at);
  if (!prev?.geo.country || prev.geo.country === current.geo.country) return null;
  return {
    action: 'alert',
    event: 'new_country',
    reason: `session used from ${current.geo.country} after ${prev.geo.country}`,
    data: { from: place(prev.geo), to: place(current.geo), ip: current.ip },
  };
};

/** A sign-in from a browser/OS family the user has not signed in with before (the new sign-in notice). */
export const newDevice: RiskRule = (history, current) => {
  if (current.kind !== 'login') return null;
  const now = userAgentFamily(current.userAgent);
  const seen = history.map((o) => userAgentFamily(o.userAgent)).filter((f) => f !== null);
  if (!now || seen.length === 0 || seen.some((f) => sameFamily(f, now))) return null;
  return {
    action: 'alert',
    event: 'new_device',
    reason: `first sign-in with ${describeFamily(now)}`,
    data: { device: now, ip: current.ip, location: place(current.geo) },
  };
};

export const defaultRules: readonly RiskRule[] = [impossibleTravel, sessionAnomaly, newCountry, newDevice];

export function assessRisk(
  history: readonly RiskObservation[],
  current: RiskObservation,
  cfg: RiskConfig,
  rules: readonly RiskRule[] = defaultRules,
): RiskVerdict {
  let alert: RiskVerdict | undefined;
  for (const rule of rules) {
    const v = rule(history, current, cfg);
    if (!v || v.action === 'allow') continue;
    if (v.action === 'block') return v;
    alert ??= v;
  }
  return alert ?? { action: 'allow' };
}
