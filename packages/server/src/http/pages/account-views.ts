import { describeBrowser, describeSignIn } from '../../core/notices/wording.js';
import { userAgentFamily } from '../../core/risk.js';
import type { EventRow, SessionRow, UserRow, WebauthnCredentialRow } from '../../store/ports/index.js';
import { timeline } from './event-view.js';
import { lifecycleSections } from './lifecycle-views.js';
import { recoveryCodesBox, totpBlock } from './totp-view.js';
import { html, type Html } from './html.js';
import { field, layout, place, status, time, type Viewer } from './layout.js';

export interface AccountData {
  user: UserRow;
  totp: boolean;
  recoveryCodesLeft: number;
  passkeys: WebauthnCredentialRow[];
}

const viewerOf = (u: UserRow): Viewer => ({ email: u.email, isAdmin: u.isAdmin });

/** Email, membership and the change-password form. */
function profileSection(u: UserRow): Html {
  return html`
<section class="card" aria-labelledby="profile-h">
  <h2 id="profile-h">Profile</h2>
  ${u.emailVerifiedAt === null
    ? html`<div class="notice warn" data-unverified-notice><p><strong>Your email address is not confirmed.</strong> Until it is, you cannot set up two-step verification.
  <button type="button" class="link" data-action="resend-verification">Mail me a confirmation link</button></p>${status()}</div>`
    : ''}
  <dl class="facts"><dt>Email</dt><dd data-email>${u.email}</dd><dt>Member since</dt><dd>${time(u.createdAt)}</dd>${u.isAdmin ? html`<dt>Role</dt><dd>Administrator</dd>` : ''}</dl>
  <details><summary>Change password</summary>
  <form data-form="change-password" method="post">
    ${field({ name: 'current_password', label: 'Current password', type: 'password', autocomplete: 'current-password' })}
    ${field({ name: 'new_password', label: 'New password', type: 'password', autocomplete: 'new-password', hint: 'Your other sessions will be signed out.' })}
    <button type="submit">Change password</button>
    ${status()}
  </form></details>
</section>`;
}

export function accountPage(d: AccountData, expiresIn: number): string {
  const u = d.user;
  return layout({
    title: 'Your account',
    page: 'account',
    viewer: viewerOf(u),
    expiresIn,
    body: html`
${profileSection(u)}

<section class="card" aria-labelledby="mfa-h" data-mfa>
  <h2 id="mfa-h">Two-step verification</h2>
  <p class="muted">Changes here need a sign-in within the last 5 minutes.</p>
  <h3>Authenticator app</h3>
  ${totpBlock(d.totp, d.recoveryCodesLeft)}
  ${recoveryCodesBox()}

  <h3>Passkeys</h3>
  ${d.passkeys.length
    ? html`<ul class="list" data-passkeys>${d.passkeys.map(
        (p) => html`<li><span><strong>${p.name}</strong> <span class="muted">added ${time(p.createdAt)}, last used ${time(p.lastUsedAt)}</span></span>
      <button type="button" class="danger small" data-action="remove-passkey" data-id="${p.id}" aria-label="Remove passkey ${p.name}">Remove</button></li>`,
      )}</ul>`
    : html`<p data-passkeys>No passkeys yet.</p>`}
  <form data-form="add-passkey" method="post">
    ${field({ name: 'name', id: 'passkey-name', label: 'Passkey name', value: 'Passkey', required: false })}
    <button type="submit" class="secondary">Add a passkey</button>
    ${status()}
  </form>
</section>
${lifecycleSections(u)}`,
  });
}

export function describeDevice(ua: string | null): string {
  return describeBrowser(userAgentFamily(ua)) ?? 'Unknown device';
}

function sessionItem(s: SessionRow, currentId: string): Html {
  const current = s.id === currentId;
  return html`<li class="session${current ? ' current' : ''}" data-session-id="${s.id}">
<div><p><strong>${describeDevice(s.userAgent)}</strong>${current ? html` <span class="badge on">This device</span>` : ''}</p>
<p class="muted">${place(s.geo)}${s.ip ? html` · IP ${s.ip}` : ''}</p>
<p class="muted">Last seen ${time(s.lastSeenAt)} · signed in ${time(s.createdAt)} with ${describeSignIn(s.amr)}</p>
<p class="muted" data-key-bound="${s.dpopJkt !== null ? 'yes' : 'no'}">${s.dpopJkt !== null ? 'Bound to a key on that device: a copied cookie or token is useless elsewhere' : 'Not key-bound: whoever copies its cookies or token can use them'}</p></div>
<button type="button" class="danger small" data-action="revoke-session" data-id="${s.id}" aria-label="Sign out ${describeDevice(s.userAgent)}${current ? ' (this device)' : ''}">Sign out</button>
</li>`;
}

export function sessionsPage(user: UserRow, sessions: SessionRow[], currentId: string, expiresIn: number): string {
  return layout({
    title: 'Your sessions',
    page: 'sessions',
    viewer: viewerOf(user),
    expiresIn,
    geoAttribution: true,
    body: html`
<p>Every browser and app signed in to your account. Sign out any you do not recognise, then change your password.</p>
<ul class="sessions">${sessions.map((s) => sessionItem(s, currentId))}</ul>
<p class="actions"><button type="button" class="secondary" data-action="revoke-others">Sign out all other sessions</button>
<button type="button" class="danger" data-action="revoke-all">Sign out everywhere</button></p>
${status()}`,
  });
}

export function eventsPage(user: UserRow, events: EventRow[], expiresIn: number): string {
  return layout({
    title: 'Security activity',
    page: 'events',
    viewer: viewerOf(user),
    expiresIn,
    geoAttribution: true,
    body: html`<p>Sign-ins, new devices, unusual activity and sign-outs on your account, newest first.</p>${timeline(events)}`,
  });
}
