import type { EventRow, SessionRow, UserRow } from '../../store/ports/index.js';
import { describeDevice } from './account-views.js';
import { EVENT_TYPES, timeline } from './event-view.js';
import { html } from './html.js';
import { layout, place, status, time } from './layout.js';

export interface AdminData {
  admin: UserRow;
  filter: { type: string; user: string };
  events: EventRow[];
  /** the user named by the `user` filter, when there is one */
  subject?: { user: UserRow; sessions: SessionRow[] } | undefined;
}

export function adminPage(d: AdminData, expiresIn: number): string {
  const s = d.subject;
  return layout({
    title: 'Administration',
    page: 'admin',
    viewer: { email: d.admin.email, isAdmin: true },
    expiresIn,
    geoAttribution: true,
    body: html`
<form class="card filters" method="get" action="/admin" role="search">
  <div class="field"><label for="type">Event type</label><select id="type" name="type">
    <option value="">Any</option>
    ${EVENT_TYPES.map((t) => html`<option value="${t}"${t === d.filter.type ? html` selected` : ''}>${t}</option>`)}
  </select></div>
  <div class="field"><label for="user">User (email or id)</label><input id="user" name="user" type="search" value="${d.filter.user}"></div>
  <button type="submit">Filter</button>
</form>
${s
  ? html`<section class="card" aria-labelledby="subject-h" data-subject="${s.user.id}">
  <h2 id="subject-h">${s.user.email}</h2>
  <dl class="facts"><dt>User id</dt><dd><code>${s.user.id}</code></dd><dt>Created</dt><dd>${time(s.user.createdAt)}</dd>
  <dt>Password reset required</dt><dd>${s.user.passwordResetRequired ? 'yes' : 'no'}</dd></dl>
  <h3>Live sessions (${s.sessions.length})</h3>
  ${s.sessions.length
    ? html`<ul class="sessions">${s.sessions.map(
        (x) => html`<li class="session"><div><p><strong>${describeDevice(x.userAgent)}</strong></p>
        <p class="muted">${place(x.geo)}${x.ip ? html` · IP ${x.ip}` : ''} · last seen ${time(x.lastSeenAt)}</p></div></li>`,
      )}</ul>`
    : html`<p>None.</p>`}
  <p class="actions">
    <button type="button" class="danger" data-admin-action="revoke-sessions" data-user-id="${s.user.id}">Revoke all sessions</button>
    <button type="button" class="danger" data-admin-action="require-password-reset" data-user-id="${s.user.id}">Require password reset</button>
    <button type="button" class="secondary" data-admin-action="unlock" data-user-id="${s.user.id}">Unlock sign-in</button>
  </p>
  ${status()}
</section>`
  : d.filter.user
    ? html`<p class="notice warn">No user matches “${d.filter.user}”.</p>`
    : ''}
<h2>Events</h2>
${timeline(d.events, { userLink: (e) => (e.userId ? html` <a href="/admin?user=${encodeURIComponent(e.userId)}">user</a>` : html``) })}`,
  });
}
