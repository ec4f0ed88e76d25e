import { html, type Html } from './html.js';
import { field, status } from './layout.js';

/** The "On" state: what the page shows when the account has an authenticator app. */
function totpOn(recoveryCodesLeft: number): Html {
  return html`<p><span class="badge on">On</span> Codes from your authenticator app are asked for at sign-in.</p>
  <p>Recovery codes left: <strong data-recovery-left>${recoveryCodesLeft}</strong></p>
  <p class="actions"><button type="button" class="secondary" data-action="new-recovery-codes">New recovery codes</button>
  <button type="button" class="danger" data-action="remove-totp">Turn off</button></p>`;
}

/**
 * The authenticator app's part of /account. While it is off, the "On" state rides along in a <template>
 * (inert, not shown), so the page turns to "On" the moment verification succeeds, without a reload.
 */
export function totpBlock(totp: boolean, recoveryCodesLeft: number): Html {
  if (totp) return html`<div data-totp="on">${totpOn(recoveryCodesLeft)}</div>`;
  return html`<div data-totp="off"><p><span class="badge">Off</span></p>
  <p><button type="button" data-action="start-totp">Set up an authenticator app</button></p>
  <div data-totp-enrol hidden>
    <p>Scan this code with your authenticator app, or type the key by hand.</p>
    <div class="qr" data-qr></div>
    <p>Key: <code id="totp-secret" data-totp-secret></code></p>
    <form data-form="verify-totp" method="post">
      ${field({ name: 'code', id: 'totp-code', label: 'Code from the app', autocomplete: 'one-time-code', inputmode: 'numeric' })}
      <button type="submit">Turn on</button>
      ${status()}
    </form>
  </div>
  <template data-totp-on>${totpOn(10)}</template></div>`;
}

/**
 * The section's own live region (ahead of the codes' one, so the "On" state's buttons report there), then
 * freshly issued recovery codes (filled in by pages.js) with Copy and Download so they get saved.
 */
export function recoveryCodesBox(): Html {
  return html`<div data-mfa-status>${status()}</div>
  <div class="notice" data-recovery-codes hidden tabindex="-1">
    <h3>Your recovery codes</h3>
    <p>Each code works once if you lose your device. Save them now: they will not be shown again.</p>
    <ol class="codes" data-codes></ol>
    <p class="actions"><button type="button" class="secondary" data-action="copy-codes">Copy</button>
    <button type="button" class="secondary" data-action="download-codes">Download</button></p>
    ${status()}
  </div>`;
}
