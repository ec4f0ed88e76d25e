import type { AdminUserItem } from '../../core/admin-users.js';
import type { EventRow, SessionRow, UserRow } from '../../store/ports/index.js';
import { describeDevice } from './account-views.js';
import { EVENT_TYPES, timeline } from './event-view.js';
import { html, type Html } from './html.js';
import { layout, place, status, time } from './layout.js';
import { confirmButton } from './lifecycle-views.js';

export interface AdminData {
  admin: UserRow;
  filter: { type: string; user: string };
  events: EventRow[];
  /** the email of each user the events name (absent: deleted) */
  emails: ReadonlyMap<string, string>;
  /** the user named by the `user` filter, when there is one */
  subject?: { user: UserRow; sessions: SessionRow[] } | undefined;
  users: { query: string; items: AdminUserItem[]; nextCursor: string | null };
}

const userHref = (id: string) => `/admin?user=${encodeURIComponent(id)}`;

function userList(u: AdminData['users']): Html {
  return html`<section class="card" aria-labelledby="users-h">
  <h2 id="users-h">Users</h2>
  <form class="search" method="get" action="/admin" role="search">
    <div class="field"><label for="query">Search by email or id</label><input id="query" name="query" type="search" value="${u.query}" placeholder="alice@ or an id"></div>
    <button type="submit">Search</button>
  </form>
  ${u.items.length
    ? html`<table class="users"><thead><tr><th>Email</th><th>Status</th><th>Second factor</th><th>Created</th><th>Last sign-in</th></tr></thead><tbody>
    ${u.items.map(
      (x) => html`<tr data-user-row="${x.id}"><td data-label="Email"><a href="${userHref(x.id)}">${x.email}</a>${x.admin ? html` <span class="badge">admin</span>` : ''}</td>
      <td data-label="Status">${x.disabled ? html`<span class="badge">disabled</span>` : 'active'}${x.email_verified ? '' : html` <span class="badge">unverified</span>`}${x.password_reset_required ? html` <span class="badge">reset required</span>` : ''}</td>
      <td data-label="Second factor">${x.mfa ? html`<span class="badge on">on</span>` : 'off'}</td>
      <td data-label="Created">${time(x.created_at)}</td><td data-label="Last sign-in">${x.last_sign_in_at ? time(x.last_sign_in_at) : 'never'}</td></tr>`,
    )}</tbody></table>`
    : html`<p>No users match.</p>`}
  ${u.nextCursor ? html`<p><a href="/admin?query=${encodeURIComponent(u.query)}&amp;cursor=${encodeURIComponent(u.nextCursor)}" rel="next">Next page</a></p>` : ''}
</section>`;
}

function subjectCard(s: NonNullable<AdminData['subject']>): Html {
  const u = s.user;
  const id = u.id;
  return html`<section class="card" aria-labelledby="subject-h" data-subject="${id}">
  <h2 id="subject-h">${u.email}</h2>
  <dl class="facts"><dt>User id</dt><dd><code>${id}</code></dd><dt>Created</dt><dd>${time(u.createdAt)}</dd>
  <dt>Status</dt><dd>${u.disabledAt !== null ? html`disabled since ${time(u.disabledAt)}` : 'active'}</dd>
  <dt>Password reset required</dt><dd>${u.passwordResetRequired ? 'yes' : 'no'}</dd></dl>
  <h3>Live sessions (${s.sessions.length})</h3>
  ${s.sessions.length
    ? html`<ul class="sessions">${s.sessions.map(
        (x) => html`<li class="session"><div><p><strong>${describeDevice(x.userAgent)}</strong></p>
        <p class="muted">${place(x.geo)}${x.ip ? html` · IP ${x.ip}` : ''} · last seen ${time(x.lastSeenAt)}</p></div></li>`,
      )}</ul>`
    : html`<p>None.</p>`}
  <p class="actions">
    ${confirmButton({ label: 'Revoke all sessions', question: `Sign ${u.email} out everywhere?`, action: 'revoke-sessions', userId: id })}
    ${confirmButton({ label: 'Require password reset', question: `Sign ${u.email} out and require a new password?`, action: 'require-password-reset', userId: id })}
    <button type="button" class="secondary" data-admin-action="unlock" data-user-id="${id}">Unlock sign-in</button>
    ${u.disabledAt !== null
      ? html`<button type="button" class="secondary" data-admin-action="enable" data-user-id="${id}">Enable account</button>`
      : confirmButton({ label: 'Disable account', question: `Disable ${u.email}? Their sessions end and they cannot sign in.`, action: 'disable', userId: id })}
    ${confirmButton({ label: 'Delete account', question: `Delete ${u.email} and erase their data? This cannot be undone.`, action: 'delete', userId: id, method: 'DELETE' })}
  </p>
  ${status()}
</section>`;
}

function createUserCard(): Html {
  return html`<details class="card"><summary>Create a user</summary>
  <form data-form="admin-create-user" method="post">
    <div class="field"><label for="new-user-email">Email</label><input id="new-user-email" name="email" type="email" autocomplete="off" required></div>
    <div class="field"><label><input type="checkbox" name="admin" value="true" class="inline"> Administrator</label></div>
    <p class="hint">The person is mailed a link to choose their password.</p>
    <button type="submit">Create user</button>
    ${status()}
  </form></details>`;
}

export function adminPage(d: AdminData, expiresIn: number): string {
  const who = (e: EventRow): Html =>
    e.userId ? html` <a href="${userHref(e.userId)}">${d.emails.get(e.userId) ?? 'deleted user'}</a>` : html``;
  return layout({
    title: 'Administration',
    page: 'admin',
    viewer: { email: d.admin.email, isAdmin: true },
    expiresIn,
    geoAttribution: true,
    body: html`
${d.subject ? subjectCard(d.subject) : d.filter.user ? html`<p class="notice warn">No user matches “${d.filter.user}”.</p>` : ''}
${userList(d.users)}
${createUserCard()}
<h2>Events</h2>
<form class="card filters" method="get" action="/admin" role="search">
  <div class="field"><label for="type">Event type</label><select id="type" name="type">
    <option value="">Any</option>
    ${EVENT_TYPES.map((t) => html`<option value="${t}"${t === d.filter.type ? html` selected` : ''}>${t}</option>`)}
  </select></div>
  <div class="field"><label for="user">User (email or id)</label><input id="user" name="user" type="search" value="${d.filter.user}"></div>
  <button type="submit">Filter</button>
</form>
${timeline(d.events, { userLink: who })}`,
  });
}
