/**
 * Behaviour of the server-rendered pages: forms and buttons talk to the JSON API with fetch (cookie
 * transport) through tessera-client.js (the built @tessera/browser package); errors from problem+json land
 * in the form's aria-live status.
 */
import { adoptPage, api, beginSignIn, onSignedOut, refresh, signIn, signedIn, signOut, start, tesseraFetch } from './tessera-client.js';
import * as webauthn from './webauthn.js';
import { adminClick, lifecycleForms } from './lifecycle.js';
import { recoveryActions, showRecoveryCodes, totpTurnedOn } from './recovery-codes.js';
import { waitMessage } from './rate-limit.js';

const page = document.body.dataset.page;

const METHOD_LABELS = { totp: 'Authenticator app code', recovery_code: 'Recovery code', email_otp: 'Code sent by email', sms_otp: 'Code sent by text message' };
// Only our own pages: `next` must never send a freshly signed-in user to another site (open redirect).
const NEXT_OK = /^\/(account(\/sessions|\/events)?|admin)(\?[\w=&%.@+-]*)?$/;

const $ = (sel, root = document) => root.querySelector(sel);
const statusOf = (root) => (root.matches?.('[data-status]') ? root : $('[data-status]', root) ?? $('[data-status]'));

/** Show a message (text only; never markup) in the nearest live region, optionally followed by a link. */
function say(root, message, kind = 'error', link) {
  const el = statusOf(root);
  if (!el) return;
  el.className = `status ${kind}`;
  el.replaceChildren(document.createTextNode(message));
  if (link) {
    const a = document.createElement('a');
    a.href = link.href;
    a.textContent = link.label;
    el.append(' ', a);
  }
}

function problem(res) {
  if (res.status === 429 && res.body?.code === 'rate_limited') return waitMessage(res.retryAfter);
  if (res.body && typeof res.body === 'object') return res.body.detail || res.body.title || `Request failed (${res.status}).`;
  return `Request failed (${res.status}).`;
}

function sayProblem(root, res) {
  if (res.body?.code === 'reauthentication_required') {
    return say(root, problem(res), 'error', { href: `/sign-in?next=${encodeURIComponent(location.pathname)}`, label: 'Sign in again' });
  }
  return say(root, problem(res));
}

const fields = (form) => Object.fromEntries([...new FormData(form)].map(([k, v]) => [k, String(v)]));
/**
 * Back to an app's authorization request after signing in: a same-origin /oauth/authorize URL only, parsed
 * (not pattern-matched), so `//evil.example`, `/\\evil`, or any other path or origin never passes.
 */
function authorizeNext(n) {
  if (!n.startsWith('/oauth/authorize?') || n.startsWith('//')) return undefined;
  let u;
  try {
    u = new URL(n, location.origin);
  } catch {
    return undefined;
  }
  return u.origin === location.origin && u.pathname === '/oauth/authorize' ? u.pathname + u.search : undefined;
}
const nextUrl = () => {
  const n = new URLSearchParams(location.search).get('next');
  if (!n) return '/account';
  return NEXT_OK.test(n) ? n : (authorizeNext(n) ?? '/account');
};

function finishSignIn(body) {
  signedIn({ expiresIn: body.expires_in });
  location.assign(nextUrl());
}

/** Disable a control while its request runs, so a double click sends one request. */
async function busy(control, fn) {
  const buttons = control instanceof HTMLFormElement ? [...control.querySelectorAll('button')] : [control];
  for (const b of buttons) b.disabled = true;
  try {
    await fn();
  } catch (err) {
    say(control.closest('form, section, .card, main') ?? control, err?.name === 'NotAllowedError' ? 'The passkey prompt was cancelled.' : 'Network error: please try again.');
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

// ---- sign-in ---------------------------------------------------------------------------------------
let mfaToken;

/** `result` is @tessera/browser's signIn() outcome: signed in (silent refresh already started), a second step, or refused. */
async function afterLogin(form, result) {
  if (result.status === 'mfa-required') return secondStep(result.response.body);
  if (result.status === 'signed-in') return location.assign(nextUrl());
  const res = result.response;
  if (res.body?.code === 'email_unverified') {
    const notice = $('[data-unverified-notice]');
    notice.hidden = false;
    notice.setAttribute('tabindex', '-1');
    notice.focus();
    return say(form, problem(res));
  }
  if (res.body?.code === 'password_reset_required') {
    const notice = $('[data-reset-notice]');
    if (notice) {
      notice.hidden = false;
      notice.setAttribute('tabindex', '-1');
      notice.focus();
    }
  }
  return say(form, problem(res));
}

function secondStep(body) {
  mfaToken = body.mfa_token;
  const form = $('[data-form="mfa"]');
  const select = $('select[name="method"]', form);
  const codeMethods = body.methods.filter((m) => m in METHOD_LABELS);
  select.replaceChildren(...codeMethods.map((m) => new Option(METHOD_LABELS[m], m)));
  for (const el of [select.closest('.field'), $('input[name="code"]', form).closest('.field'), $('button[type="submit"]', form)]) el.hidden = codeMethods.length === 0;
  $('[data-action="mfa-passkey"]', form).hidden = !body.methods.includes('webauthn') || !webauthn.supported();
  $('[data-action="mfa-email"]', form).hidden = !body.methods.includes('email_otp');
  $('[data-action="mfa-sms"]', form).hidden = !body.methods.includes('sms_otp');
  $('[data-form="sign-in"]').hidden = true;
  $('.passkey-only')?.setAttribute('hidden', '');
  form.hidden = false;
  $('h2', form).focus();
}

async function passkeySignIn(button, withToken) {
  const root = button.closest('form, .card');
  if (!withToken) await beginSignIn(); // a new session: a new key
  const options = await api('POST', '/v1/login/webauthn/options', withToken ? { mfa_token: mfaToken } : {});
  if (!options.ok) return sayProblem(root, options);
  const response = await webauthn.get(options.body);
  const res = await api('POST', '/v1/login/webauthn', withToken ? { mfa_token: mfaToken, response } : { response, transport: 'cookie' });
  return res.ok ? finishSignIn(res.body) : sayProblem(root, res);
}

// ---- account: MFA ----------------------------------------------------------------------------------
/** The QR code is our server's SVG (attributes only, no style): parsed as SVG, scripts and handlers dropped. */
function insertQr(container, svgText) {
  const doc = new DOMParser().parseFromString(svgText, 'image/svg+xml');
  const svg = doc.documentElement;
  if (svg.nodeName !== 'svg') return;
  for (const el of [svg, ...svg.querySelectorAll('*')]) {
    if (el.nodeName === 'script' || el.nodeName === 'foreignObject') el.remove();
    else for (const a of [...el.attributes]) if (/^on|^style$|href$/i.test(a.name)) el.removeAttribute(a.name);
  }
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'QR code for your authenticator app');
  container.replaceChildren(document.importNode(svg, true));
}

// ---- handlers -----------------------------------------------------------------------------------------
/** The consent page sends its own authorization request back with the answer; the server says where to go. */
async function consentAnswer(form, decision) {
  const res = await api('POST', '/consent', { query: location.search.slice(1), decision });
  return res.ok ? location.assign(res.body.redirect_to) : sayProblem(form, res);
}

const FORMS = {
  consent: async (form) => consentAnswer(form, 'allow'),
  'sign-in': async (form, f) => afterLogin(form, await signIn({ email: f.email, password: f.password })),
  mfa: async (form, f) => {
    const res = await api('POST', '/v1/login/mfa', { mfa_token: mfaToken, method: f.method, code: f.code.replace(/\s+/g, '') });
    return res.ok ? finishSignIn(res.body) : sayProblem(form, res);
  },
  'sign-up': async (form, f) => {
    const res = await api('POST', '/v1/accounts', { email: f.email, password: f.password });
    if (!res.ok) return say(form, problem(res));
    // the same answer for a taken address: either way the next step is in the mailbox
    const done = $('[data-check-mail]');
    $('[data-sent-to]', done).textContent = f.email;
    form.hidden = true;
    done.hidden = false;
    return $('h2', done).focus();
  },
  'verify-email': async (form, f) => {
    const res = await api('POST', '/v1/email/verify', { token: f.token });
    if (!res.ok) return say(form, problem(res), 'error', { href: '/sign-in', label: 'Sign in to get a new link' });
    form.querySelector('button')?.setAttribute('hidden', '');
    return say(form, 'Your email address is confirmed.', 'ok', { href: '/sign-in', label: 'Sign in' });
  },
  'forgot-password': async (form, f) => {
    const res = await api('POST', '/v1/password/forgot', { email: f.email });
    return res.ok ? say(form, res.body?.detail ?? 'Check your email.', 'ok') : say(form, problem(res));
  },
  'reset-password': async (form, f) => {
    const res = await api('POST', '/v1/password/reset', { token: f.token, new_password: f.new_password });
    if (!res.ok) return say(form, problem(res));
    form.reset();
    return say(form, 'Your password is changed and every session was signed out.', 'ok', { href: '/sign-in', label: 'Sign in' });
  },
  'approve-sign-in': async (form, f) => {
    const res = await api('POST', '/v1/login/approve', { token: f.token });
    if (!res.ok) return say(form, problem(res));
    form.querySelector('button')?.setAttribute('hidden', '');
    return say(form, 'Approved. Sign in again from that device.', 'ok');
  },
  'change-password': async (form, f) => {
    const res = await api('POST', '/v1/password/change', { current_password: f.current_password, new_password: f.new_password });
    if (!res.ok) return sayProblem(form, res);
    form.reset();
    return say(form, 'Password changed. Your other sessions were signed out.', 'ok');
  },
  'verify-totp': async (form, f) => {
    const res = await api('POST', '/v1/mfa/totp/verify', { code: f.code.replace(/\s+/g, '') });
    if (!res.ok) return sayProblem(form, res);
    totpTurnedOn();
    showRecoveryCodes(res.body.recovery_codes);
    return say($('[data-mfa-status]'), 'The authenticator app is on. Save your recovery codes now.', 'ok');
  },
  'add-passkey': async (form, f) => {
    const options = await api('POST', '/v1/mfa/webauthn/options');
    if (!options.ok) return sayProblem(form, options);
    const response = await webauthn.create(options.body);
    const res = await api('POST', '/v1/mfa/webauthn', { response, name: f.name || 'Passkey' });
    if (!res.ok) return sayProblem(form, res);
    if (res.body.recovery_codes) return showRecoveryCodes(res.body.recovery_codes);
    return location.reload();
  },
};

const reloadOr = (root) => (res) => (res.ok ? location.reload() : sayProblem(root, res));
Object.assign(FORMS, lifecycleForms({ api, say, sayProblem }));

const ACTIONS = {
  'sign-out': async () => {
    await signOut();
    location.assign('/sign-in');
  },
  'passkey-sign-in': (b) => passkeySignIn(b, false),
  'resend-verification': async (b) => {
    const notice = b.closest('[data-unverified-notice]');
    const email = $('[data-form="sign-in"] input[name="email"]')?.value ?? $('[data-email]')?.textContent ?? '';
    const res = await api('POST', '/v1/email/verification', { email });
    return res.ok ? say(notice, 'A new link is on its way (at most a few per hour).', 'ok') : sayProblem(notice, res);
  },
  'mfa-passkey': (b) => passkeySignIn(b, true),
  'mfa-email': async (b) => {
    const res = await api('POST', '/v1/login/mfa/email', { mfa_token: mfaToken });
    if (!res.ok) return sayProblem(b.form, res);
    $('select[name="method"]').value = 'email_otp';
    return say(b.form, 'A code is on its way to your email.', 'ok');
  },
  'mfa-sms': async (b) => {
    const res = await api('POST', '/v1/login/mfa/sms', { mfa_token: mfaToken });
    if (!res.ok) return sayProblem(b.form, res);
    $('select[name="method"]').value = 'sms_otp';
    return say(b.form, 'A code is on its way to your phone.', 'ok');
  },
  'start-totp': async (b) => {
    const res = await api('POST', '/v1/mfa/totp');
    if (!res.ok) return sayProblem($('[data-mfa-status]'), res); // the form's own region is still hidden
    const panel = $('[data-totp-enrol]');
    insertQr($('[data-qr]', panel), res.body.qr_svg);
    $('[data-totp-secret]', panel).textContent = res.body.secret;
    panel.hidden = false;
    b.hidden = true;
    return $('input[name="code"]', panel).focus();
  },
  'remove-totp': async (b) => reloadOr(b.closest('section'))(await api('DELETE', '/v1/mfa/totp')),
  'new-recovery-codes': async (b) => {
    const res = await api('POST', '/v1/mfa/recovery-codes');
    return res.ok ? showRecoveryCodes(res.body.recovery_codes) : sayProblem(b.closest('section'), res);
  },
  'remove-passkey': async (b) => reloadOr(b.closest('section'))(await api('DELETE', `/v1/mfa/webauthn/${encodeURIComponent(b.dataset.id)}`)),
  'revoke-session': async (b) => {
    const item = b.closest('[data-session-id]');
    const res = await api('DELETE', `/v1/sessions/${encodeURIComponent(b.dataset.id)}`);
    if (!res.ok) return sayProblem(document.body, res);
    if (item.classList.contains('current')) return location.assign('/sign-in');
    item.remove();
    return say(document.body, 'Signed out that session.', 'ok');
  },
  'revoke-app': async (b) => {
    const res = await api('DELETE', `/v1/me/apps/${encodeURIComponent(b.dataset.id)}`);
    if (!res.ok) return sayProblem(document.body, res);
    b.closest('[data-app-id]')?.remove();
    return say(document.body, 'Removed that app\'s access and signed it out.', 'ok');
  },
  'consent-deny': async (b) => consentAnswer(b.closest('form'), 'deny'),
  'revoke-others': async () => reloadOr(document.body)(await api('DELETE', '/v1/sessions?keep=current')),
  'revoke-all': async () => {
    const res = await api('DELETE', '/v1/sessions');
    return res.ok ? location.assign('/sign-in') : sayProblem(document.body, res);
  },
};
Object.assign(ACTIONS, recoveryActions({ say }));

document.addEventListener('submit', (e) => {
  const form = e.target;
  const handler = FORMS[form.dataset?.form];
  if (!handler) return;
  e.preventDefault();
  void busy(form, () => handler(form, fields(form)));
});

/**
 * "Download my data": a plain link would carry no DPoP proof, and a key-bound session's cookie alone is
 * refused; the client fetches it with a proof and hands the file to the browser.
 */
async function downloadExport(link) {
  const res = await tesseraFetch(link.getAttribute('href'));
  if (!res.ok) return say(link, `The download failed (${res.status}).`);
  const name = /filename="?([^";]+)"?/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'tessera-export.json';
  const url = URL.createObjectURL(await res.blob());
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

document.addEventListener('click', (e) => {
  const link = e.target.closest?.('a[data-export]');
  if (link) {
    e.preventDefault();
    void downloadExport(link);
    return;
  }
  const button = e.target.closest?.('button[data-action], button[data-admin-action]');
  if (!button) return;
  if (button.dataset.adminAction) {
    void adminClick(button, { api, sayProblem, busy });
    return;
  }
  const action = ACTIONS[button.dataset.action];
  if (action) void busy(button, () => action(button));
});

// ---- start-up ---------------------------------------------------------------------------------------
function startSignedIn() {
  if (location.hash === '#resumed') history.replaceState(null, '', location.pathname + location.search);
  start({ expiresIn: Number(document.body.dataset.expiresIn) });
  onSignedOut(() => location.assign('/sign-in'));
}

/**
 * A key-bound session's page load: the navigation carried no DPoP proof, so the server sent this shell.
 * Ask for the same page again with a proof from this browser's key, and put it in place.
 */
async function openBound() {
  const here = location.pathname + location.search;
  const res = await tesseraFetch(here, { headers: { accept: 'text/html' } }).catch(() => null);
  const redirect = res?.ok && (res.headers.get('content-type') ?? '').startsWith('application/json') ? await redirectOf(res) : undefined;
  if (redirect) return location.replace(redirect);
  if (!res || res.redirected || !(res.headers.get('content-type') ?? '').startsWith('text/html')) {
    return location.replace(res?.redirected ? res.url : `/sign-in?next=${encodeURIComponent(here)}`);
  }
  return swapIn(res, here);
}

/** The `{ redirect }` answer of an OpenID Connect page asked with a proof (a registered redirect URI, or ours); never script. */
async function redirectOf(res) {
  const body = await res.json().catch(() => null);
  let to;
  try {
    to = typeof body?.redirect === 'string' ? new URL(body.redirect, location.href) : undefined;
  } catch {
    return undefined;
  }
  return to && !['javascript:', 'data:', 'vbscript:', 'blob:'].includes(to.protocol) ? to.href : undefined;
}

/** Put a page fetched with a proof in place of the shell. */
async function swapIn(res, here) {
  const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
  // Never loop: a second shell (or a resume page) here means the proof did not do it.
  if (['bound', 'bound-authorize', 'resume'].includes(doc.body.dataset.page)) return location.replace(`/sign-in?next=${encodeURIComponent(here)}`);
  adoptPage(doc);
  document.title = doc.title;
  document.body.replaceWith(document.adoptNode(doc.body));
  if (document.body.dataset.expiresIn !== undefined) startSignedIn();
  if (location.hash === '#resumed') history.replaceState(null, '', here);
}

/**
 * A key-bound session's authorization request (a navigation or an app's form post, with no proof): the same
 * request again with a proof; the server answers where to go (the app, consent or sign-in) or an error page.
 */
async function authorizeBound() {
  const form = $('form[data-authorize-params]');
  const here = form ? '/oauth/authorize' : location.pathname + location.search;
  const body = form ? new URLSearchParams(new FormData(form)) : undefined;
  const init = body ? { method: 'POST', headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() } : { headers: { accept: 'application/json' } };
  const res = await tesseraFetch(here, init).catch(() => null);
  const type = res?.headers.get('content-type') ?? '';
  const redirect = res?.ok && type.startsWith('application/json') ? await redirectOf(res) : undefined;
  if (redirect) return location.replace(redirect);
  if (res && type.startsWith('text/html') && !res.redirected) return swapIn(res, here);
  return location.replace(`/sign-in?next=${encodeURIComponent(body ? `/oauth/authorize?${body}` : here)}`);
}

if (page === 'resume') {
  // One try only: coming back here after a successful refresh means the cookies did not stick.
  if (location.hash === '#resumed') location.replace('/sign-in');
  else {
    void refresh().then((ok) => {
      if (!ok) return location.replace(`/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`);
      location.hash = 'resumed';
      return location.reload();
    });
  }
} else if (page === 'bound') {
  void openBound();
} else if (page === 'bound-authorize') {
  void authorizeBound();
} else if (document.body.dataset.expiresIn !== undefined) {
  startSignedIn();
}
if (page === 'reset-password') history.replaceState(null, '', '/reset-password'); // keep the token out of history
if (page === 'approve-sign-in') history.replaceState(null, '', '/approve-sign-in');
if (page === 'verify-email') history.replaceState(null, '', '/verify-email');
if (page === 'confirm-email') history.replaceState(null, '', '/confirm-email');
if (page === 'sign-in') {
  // OIDC login_hint: the app already knows who is signing in
  const hint = new URLSearchParams(location.search).get('login_hint');
  const email = $('form[data-form="sign-in"] input[name="email"]');
  if (hint && email && !email.value) email.value = hint.slice(0, 320);
}
if (page === 'sign-in' && !webauthn.supported()) $('.passkey-only')?.setAttribute('hidden', '');
