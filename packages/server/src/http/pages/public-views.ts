import { html } from './html.js';
import { field, layout, mailedLinkPage, status } from './layout.js';

// Forms post to nowhere useful without script (405), never GET: a password must not end up in a URL.
export function signInPage(): string {
  return layout({
    title: 'Sign in',
    page: 'sign-in',
    body: html`
<div class="notice warn" data-reset-notice hidden>
  <p><strong>Your password must be reset.</strong> We noticed unusual activity on your account and signed it out everywhere.
  <a href="/forgot-password">Reset your password</a> to sign in again.</p>
</div>
<div class="notice warn" data-unverified-notice hidden>
  <p><strong>Confirm your email address first.</strong> We sent a confirmation link to your address; open it, then sign in.
  No mail? Check your spam folder, or <button type="button" class="link" data-action="resend-verification">send the link again</button>.</p>
  ${status()}
</div>
<form data-form="sign-in" method="post" class="card">
  ${field({ name: 'email', label: 'Email', type: 'email', autocomplete: 'username webauthn' })}
  ${field({ name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password' })}
  <button type="submit">Sign in</button>
  ${status()}
</form>
<form data-form="mfa" method="post" class="card" hidden>
  <h2 tabindex="-1">Second step</h2>
  <p>Confirm it is you with one of your second factors.</p>
  <div class="field"><label for="method">Method</label><select id="method" name="method"></select></div>
  ${field({ name: 'code', label: 'Code', autocomplete: 'one-time-code', inputmode: 'numeric' })}
  <button type="submit">Verify</button>
  <button type="button" class="secondary" data-action="mfa-email" hidden>Email me a code</button>
  <button type="button" class="secondary" data-action="mfa-sms" hidden>Text me a code</button>
  <button type="button" class="secondary" data-action="mfa-passkey" hidden>Use a passkey</button>
  ${status()}
</form>
<div class="card passkey-only">
  <button type="button" class="secondary" data-action="passkey-sign-in">Sign in with a passkey</button>
  ${status()}
</div>
<p><a href="/forgot-password">Forgot your password?</a> · <a href="/sign-up">Create an account</a></p>`,
  });
}

export function signUpPage(): string {
  return layout({
    title: 'Create an account',
    page: 'sign-up',
    body: html`
<form data-form="sign-up" method="post" class="card">
  ${field({ name: 'email', label: 'Email', type: 'email', autocomplete: 'username' })}
  ${field({ name: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', hint: 'At least 8 characters; a long passphrase is best. Common passwords are refused.' })}
  <button type="submit">Create account</button>
  ${status()}
</form>
<div class="card" data-check-mail hidden>
  <h2 tabindex="-1">Check your mail</h2>
  <p>We sent a message to <strong data-sent-to></strong>. Open the link in it to confirm your address, then sign in.
  The link works once, for 24 hours.</p>
</div>
<p>Already have an account? <a href="/sign-in">Sign in</a></p>`,
  });
}

export function forgotPasswordPage(): string {
  return layout({
    title: 'Forgot your password?',
    page: 'forgot-password',
    body: html`
<form data-form="forgot-password" method="post" class="card">
  <p>Enter your email and we will send you a link to choose a new password.</p>
  ${field({ name: 'email', label: 'Email', type: 'email', autocomplete: 'username' })}
  <button type="submit">Send reset link</button>
  ${status()}
</form>
<p><a href="/sign-in">Back to sign in</a></p>`,
  });
}

export function resetPasswordPage(token: string): string {
  return mailedLinkPage({
    title: 'Choose a new password',
    page: 'reset-password',
    token,
    body: field({ name: 'new_password', label: 'New password', type: 'password', autocomplete: 'new-password', hint: 'Signing in with the new password signs out every other session.' }),
    button: 'Set password',
    incomplete: html`<a href="/forgot-password">Ask for a new one.</a>`,
  });
}

/** The mailed approval link (a button, as every mailed link: see mailedLinkPage). */
export function approveSignInPage(token: string): string {
  return mailedLinkPage({
    title: 'Approve a sign-in',
    page: 'approve-sign-in',
    token,
    body: html`<p>Approve only if you just signed in from a new device or network yourself.</p>`,
    button: 'Approve this sign-in',
    incomplete: 'Sign in again to get a new one.',
  });
}

/** The mailed verification link: a button, so a mail scanner fetching the link does not confirm a squatter's account. */
export function verifyEmailPage(token: string): string {
  return mailedLinkPage({
    title: 'Confirm your email address',
    page: 'verify-email',
    token,
    body: html`<p>Confirm only if you created this account yourself.</p>`,
    button: 'Confirm my email address',
    incomplete: html`<a href="/sign-in">Sign in</a> to get a new one.`,
  });
}

const ONE_MOMENT = html`<p role="status" aria-live="polite">One moment…</p>`;

/** Served when the access cookie is gone but a session may live on in the refresh cookie (Path=/v1/token). */
export function resumePage(): string {
  return layout({ title: 'Resuming your session', page: 'resume', body: ONE_MOMENT });
}

/**
 * A key-bound session's navigation: a browser sends no DPoP proof with a page load, so the cookie alone
 * shows nothing; the page's script fetches this URL again with a proof from its key (pages.js).
 */
export function boundPage(): string {
  return layout({ title: 'Opening your account', page: 'bound', body: ONE_MOMENT });
}

export function forbiddenPage(viewer: { email: string; isAdmin: boolean }, expiresIn: number): string {
  return layout({ title: 'Not allowed', page: 'forbidden', viewer, expiresIn, body: html`<p>This page is for administrators.</p><p><a href="/account">Back to your account</a></p>` });
}
