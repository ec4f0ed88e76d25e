/** Pages of the OpenID Connect provider: the authorization error page, consent, sign-out, the user's apps. */
import type { AppGrant } from '../../core/oauth/service.js';
import type { UserRow } from '../../store/ports/index.js';
import { html } from './html.js';
import { layout, status, time } from './layout.js';

const SCOPE_TEXT: Record<string, string> = {
  openid: 'Know who you are (your Tessera account id)',
  profile: 'See your basic profile',
  email: 'See your email address',
  offline_access: 'Stay signed in while you are away (until you remove it here)',
};

/** A bad client or redirect URI: said here, never sent anywhere (an open redirector would leak codes). */
export function authorizeErrorPage(reason: string): string {
  return layout({
    title: 'This sign-in link is not valid',
    page: 'oauth-error',
    body: html`<section class="card"><p>The app that sent you here made a request Tessera cannot accept, so you were not sent back to it.</p>
<p class="muted">Reason: ${reason}.</p><p><a href="/account">Go to your account</a></p></section>`,
  });
}

export function consentPage(d: { user: UserRow; clientName: string; scope: string[]; expiresIn: number }): string {
  return layout({
    title: `Allow ${d.clientName}?`,
    page: 'consent',
    viewer: { email: d.user.email, isAdmin: d.user.isAdmin },
    expiresIn: d.expiresIn,
    body: html`<section class="card" aria-labelledby="consent-h">
<h2 id="consent-h"><span data-client-name>${d.clientName}</span> wants to sign you in</h2>
<p>Signed in as <strong>${d.user.email}</strong>. If you allow it, this app may:</p>
<ul data-scopes>${d.scope.map((s) => html`<li data-scope="${s}">${SCOPE_TEXT[s] ?? s}</li>`)}</ul>
<p class="muted">You can remove its access at any time under Apps.</p>
<form data-form="consent" method="post">
  <p class="actions"><button type="submit" name="decision" value="allow">Allow</button>
  <button type="button" class="secondary" data-action="consent-deny">Deny</button></p>
  ${status()}
</form></section>`,
  });
}

export function appsPage(user: UserRow, apps: AppGrant[], expiresIn: number): string {
  return layout({
    title: 'Apps',
    page: 'apps',
    viewer: { email: user.email, isAdmin: user.isAdmin },
    expiresIn,
    body: html`<section class="card" aria-labelledby="apps-h">
<h2 id="apps-h">Apps you allowed</h2>
${apps.length === 0
  ? html`<p data-no-apps>No app has access to your account.</p>`
  : html`<ul class="list" data-apps>${apps.map(
      (a) => html`<li data-app-id="${a.clientId}"><strong>${a.name}</strong> <span class="muted">${a.scope.join(' ')} · allowed ${time(a.grantedAt)}</span>
  <button type="button" class="danger" data-action="revoke-app" data-id="${a.clientId}">Remove access</button></li>`,
    )}</ul>`}
${status()}
</section>`,
  });
}

/** RP-initiated logout without an ID token of ours: ask, so a foreign page cannot sign the user out. */
export function confirmLogoutPage(viewer: UserRow | undefined, expiresIn: number | undefined): string {
  return layout({
    title: 'Sign out?',
    page: 'logout',
    viewer: viewer ? { email: viewer.email, isAdmin: viewer.isAdmin } : undefined,
    expiresIn,
    body: viewer
      ? html`<section class="card"><p>An app asked to sign you out of Tessera.</p><p><button type="button" data-action="sign-out">Sign out</button> <a href="/account">Stay signed in</a></p></section>`
      : html`<section class="card"><p>You are signed out.</p></section>`,
  });
}

export function signedOutPage(): string {
  return layout({ title: 'Signed out', page: 'signed-out', body: html`<section class="card"><p data-signed-out>You are signed out of Tessera.</p><p><a href="/sign-in">Sign in again</a></p></section>` });
}
