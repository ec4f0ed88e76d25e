import type { UserRow } from '../../store/ports/index.js';
import { html, type Html } from './html.js';
import { field, mailedLinkPage, status } from './layout.js';

/** On /account: change of email, the data download, and deletion behind a typed confirmation. */
export function lifecycleSections(u: UserRow): Html {
  return html`
<section class="card" aria-labelledby="email-h">
  <h2 id="email-h">Email address</h2>
  <p>You sign in with <strong>${u.email}</strong>. A change needs a sign-in within the last 5 minutes; we send a link to the new address and tell the old one.</p>
  <details><summary>Change email</summary>
  <form data-form="change-email" method="post">
    ${field({ name: 'new_email', label: 'New email', type: 'email', autocomplete: 'email' })}
    <button type="submit">Send confirmation link</button>
    ${status()}
  </form></details>
</section>

<section class="card" aria-labelledby="data-h">
  <h2 id="data-h">Your data</h2>
  <p>One JSON file with your profile, sessions, security activity, second factors and the apps you allowed. It holds no password or secret.</p>
  <p><a class="button secondary" href="/v1/me/export" download data-export>Download my data</a></p>
</section>

<section class="card danger-zone" aria-labelledby="delete-h">
  <h2 id="delete-h">Delete account</h2>
  <p>Deleting signs you out everywhere and erases your account, second factors and personal data. It cannot be undone. Needs a sign-in within the last 5 minutes.</p>
  <form data-form="delete-account" method="post" data-confirm-value="${u.email}">
    ${field({ name: 'confirm', label: 'Type your email address to confirm', type: 'text', autocomplete: 'off', hint: `Type ${u.email}` })}
    <button type="submit" class="danger">Delete my account</button>
    ${status()}
  </form>
</section>`;
}

/** The link mailed to a new address (a button, as every mailed link: see mailedLinkPage). */
export function confirmEmailPage(token: string): string {
  return mailedLinkPage({
    title: 'Confirm your new email address',
    page: 'confirm-email',
    token,
    body: html`<p>Confirm to make this address the one you sign in with. Your other sessions will be signed out.</p>`,
    button: 'Confirm new address',
    incomplete: 'Ask for the change again from your account page.',
  });
}

/** A destructive button that first asks (pages.js shows the confirmation step before anything is sent). */
export function confirmButton(o: { label: string; question: string; action: string; userId: string; method?: 'DELETE' }): Html {
  return html`<button type="button" class="danger" data-admin-action="${o.action}" data-user-id="${o.userId}" data-confirm="${o.question}"${o.method ? html` data-method="${o.method}"` : ''}>${o.label}</button>`;
}
