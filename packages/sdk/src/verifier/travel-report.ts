import type { GeoReport } from '../geo.js';
import { asError } from './background.js';

/** Sends a local impossible-travel finding to Tessera (`POST /v1/risk/reports`) with the client credentials. */
export function travelReporter(
  issuer: string,
  credentials: { clientId: string; clientSecret: string },
  fetchImpl: typeof fetch,
  onError: ((err: Error) => void) | undefined,
): (r: GeoReport) => void {
  const url = `${issuer.replace(/\/+$/, '')}/v1/risk/reports`;
  const basic = Buffer.from(`${encodeURIComponent(credentials.clientId)}:${encodeURIComponent(credentials.clientSecret)}`).toString('base64');
  const send = async (r: GeoReport): Promise<void> => {
    try {
      const res = await fetchImpl(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Basic ${basic}` },
        body: JSON.stringify({ token: r.token, ip: r.ip, user_agent: r.userAgent ?? null }),
      });
      await res.body?.cancel();
    } catch (err) {
      onError?.(asError(err));
    }
  };
  return (r) => void send(r);
}
