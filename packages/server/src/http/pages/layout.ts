import { GEO_ATTRIBUTION, GEO_ATTRIBUTION_URL } from '../../geo/mmdb.js';
import { html, type Html, type Interpolation } from './html.js';

/**
 * No inline script or style anywhere: an injected `<script>` or `style=` attribute is inert, and scripts
 * load only from our origin. frame-ancestors stops clickjacking of the sign-out and admin buttons.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/**
 * The DPoP nonce and the server's time for the page's client: its first proof then carries a valid nonce
 * and an `iat` on the server's clock (a device clock minutes off would otherwise fail every proof).
 */
export function withDpopMeta(page: string, nonce: string, now: number): string {
  return page.replace('<head>\n', `<head>\n<meta name="tessera-dpop-nonce" content="${nonce}" data-now="${now}">\n`);
}

export interface Viewer {
  email: string;
  isAdmin: boolean;
}

export interface PageOptions {
  title: string;
  /** `data-page` on <body>: which behaviour pages.js wires up */
  page: string;
  viewer?: Viewer | undefined;
  /** seconds left on the access token, so the client schedules its silent refresh */
  expiresIn?: number | undefined;
  geoAttribution?: boolean;
  body: Interpolation;
}

const NAV = [
  { href: '/account', label: 'Account' },
  { href: '/account/sessions', label: 'Sessions' },
  { href: '/account/events', label: 'Activity' },
  { href: '/account/apps', label: 'Apps' },
];

export function layout(o: PageOptions): string {
  const nav = o.viewer
    ? html`<nav aria-label="Main"><ul>
        ${[...NAV, ...(o.viewer.isAdmin ? [{ href: '/admin', label: 'Admin' }] : [])].map(
          (n) => html`<li><a href="${n.href}"${n.href === pathOf(o.page) ? html` aria-current="page"` : ''}>${n.label}</a></li>`,
        )}
        <li><button type="button" class="link" data-action="sign-out">Sign out</button></li>
      </ul></nav>`
    : '';
  return `<!doctype html>\n${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${o.title} · Tessera</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/tessera.css">
<script type="module" src="/static/pages.js"></script>
</head>
<body data-page="${o.page}"${o.expiresIn !== undefined ? html` data-expires-in="${o.expiresIn}"` : ''}>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><a class="brand" href="/">Tessera</a>${o.viewer ? html`<span class="who">${o.viewer.email}</span>` : ''}${nav}</header>
<main id="main" tabindex="-1">
<h1>${o.title}</h1>
<noscript><p class="notice">These pages need JavaScript to talk to the Tessera API.</p></noscript>
${o.body}
</main>
${o.geoAttribution ? html`<footer><a href="${GEO_ATTRIBUTION_URL}">${GEO_ATTRIBUTION}</a></footer>` : ''}
</body>
</html>`.value}\n`;
}

function pathOf(page: string): string {
  return { account: '/account', sessions: '/account/sessions', events: '/account/events', apps: '/account/apps', admin: '/admin' }[page] ?? '';
}

/** A labelled input; `name` is the JSON API's field name. */
export function field(o: { name: string; label: string; type?: string; autocomplete?: string; required?: boolean; value?: string; hint?: string; id?: string; inputmode?: string }): Html {
  const id = o.id ?? o.name;
  return html`<div class="field"><label for="${id}">${o.label}</label>
<input id="${id}" name="${o.name}" type="${o.type ?? 'text'}"${o.autocomplete ? html` autocomplete="${o.autocomplete}"` : ''}${o.inputmode ? html` inputmode="${o.inputmode}"` : ''}${o.required === false ? '' : html` required`}${o.value !== undefined ? html` value="${o.value}"` : ''}${o.hint ? html` aria-describedby="${id}-hint"` : ''}>
${o.hint ? html`<p class="hint" id="${id}-hint">${o.hint}</p>` : ''}</div>`;
}

/** Where the client writes problem+json errors and outcomes; announced by screen readers. */
export const status = (): Html => html`<div class="status" data-status role="status" aria-live="polite"></div>`;

/**
 * A page a mailed link opens: the token goes back in a form behind a button, never spent by the GET, so a
 * mail scanner fetching the link spends nothing. `page` names the page and its form; without a token the
 * page says the link is incomplete, then `incomplete` (what to do instead).
 */
export function mailedLinkPage(o: { title: string; page: string; token: string; body: Html; button: string; incomplete: Interpolation }): string {
  return layout({
    title: o.title,
    page: o.page,
    body: o.token
      ? html`
<form data-form="${o.page}" method="post" class="card">
  <input type="hidden" name="token" value="${o.token}">
  ${o.body}
  <button type="submit">${o.button}</button>
  ${status()}
</form>`
      : html`<p class="notice warn">This link is incomplete. ${o.incomplete}</p>`,
  });
}

export function time(ms: number | string | null | undefined): Html {
  if (ms === null || ms === undefined) return html`never`;
  const d = new Date(ms);
  return html`<time datetime="${d.toISOString()}">${d.toISOString().slice(0, 16).replace('T', ' ')} UTC</time>`;
}

export function place(geo: { city?: string | null; country?: string | null } | null | undefined): string {
  const parts = [geo?.city, geo?.country].filter((p): p is string => !!p);
  return parts.length ? parts.join(', ') : 'Unknown place';
}
