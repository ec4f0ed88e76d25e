import { describeBrowser, describeReason, EVENT_TITLES, eventTitle } from '../../core/notices/wording.js';
import { userAgentFamily } from '../../core/risk.js';
import type { EventRow } from '../../store/ports/index.js';
import { html, type Html } from './html.js';
import { place, time } from './layout.js';

export const EVENT_TYPES = Object.keys(EVENT_TITLES);


/** Events flagged by the risk engine or a reuse detector: drawn as warnings. */
const ALARMING = new Set(['impossible_travel', 'session_anomaly', 'refresh_token_reused', 'password_reset_required', 'new_country', 'new_device', 'login_failed', 'mfa_failed']);

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const device = (ua: unknown): string | null => describeBrowser(userAgentFamily(str(ua)));
const family = (v: unknown): string | null => {
  const f = obj(v);
  const browser = str(f.browser);
  const os = str(f.os);
  return browser && os ? describeBrowser({ browser, os }) : null;
};

/** The detail lines of one event, from its data (every value escaped by `html`). */
function details(e: EventRow): Html[] {
  const d = e.data;
  const lines: Html[] = [];
  switch (e.type) {
    case 'impossible_travel': {
      const km = num(d.km);
      const minutes = num(d.minutes);
      lines.push(html`<span class="route"><span>${place(obj(d.from))}</span> <span aria-hidden="true">→</span><span class="sr">to</span> <span>${place(obj(d.to))}</span></span>`);
      if (km !== null) lines.push(html`<span>${km.toLocaleString('en')} km${minutes !== null ? html` in ${minutes} min` : ''}${num(d.kmh) !== null ? html` (${num(d.kmh)!.toLocaleString('en')} km/h)` : ''}</span>`);
      if (str(d.fromIp) || str(d.toIp)) lines.push(html`<span>IP ${str(d.fromIp) ?? '?'} → ${str(d.toIp) ?? '?'}</span>`);
      break;
    }
    case 'session_anomaly':
      lines.push(html`<span>${family(d.from) ?? 'unknown device'} → ${family(d.to) ?? 'unknown device'}</span>`);
      break;
    case 'new_country':
      lines.push(html`<span>${place(obj(d.from))} → ${place(obj(d.to))}</span>`);
      break;
    case 'new_device':
      lines.push(html`<span>${family(d.device) ?? 'unknown device'}, ${place(obj(d.location))}</span>`);
      break;
    case 'login_succeeded':
      lines.push(html`<span>${device(d.user_agent) ?? 'unknown device'}, ${place({ city: str(d.city), country: str(d.country) })}</span>`);
      break;
    case 'sessions_revoked':
      if (num(d.count) !== null) lines.push(html`<span>${num(d.count)} session${num(d.count) === 1 ? '' : 's'}${d.by_admin ? ' by an administrator' : ''}</span>`);
      break;
    default:
      if (str(d.reason)) lines.push(html`<span>${describeReason(str(d.reason)!)}</span>`);
      if (d.by_admin) lines.push(html`<span>by an administrator</span>`);
  }
  if (e.type === 'refresh_token_reused' || e.type === 'session_anomaly') {
    const dev = device(d.user_agent);
    if (dev) lines.push(html`<span>from ${dev}</span>`);
  }
  return lines;
}

export function eventItem(e: EventRow, opts: { showUser?: Html } = {}): Html {
  return html`<li class="event${ALARMING.has(e.type) ? ' alarm' : ''}" data-event-type="${e.type}">
<p class="event-title"><strong>${eventTitle(e.type, e.data)}</strong> ${time(e.createdAt)}</p>
<p class="event-detail">${details(e).map((l) => html`${l} `)}${e.ip ? html`<span class="muted">IP ${e.ip}</span>` : ''}${opts.showUser ?? ''}</p>
</li>`;
}

export function timeline(events: readonly EventRow[], opts: { userLink?: (e: EventRow) => Html } = {}): Html {
  if (events.length === 0) return html`<p>No events yet.</p>`;
  return html`<ol class="timeline">${events.map((e) => eventItem(e, opts.userLink ? { showUser: opts.userLink(e) } : {}))}</ol>`;
}
