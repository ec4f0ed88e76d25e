/**
 * Tessera browser client: a `fetch` wrapper for the cookie transport, with silent refresh.
 *
 *   import { api, start, onSignedOut } from '/static/tessera-client.js';
 *   start({ expiresIn: 300 });            // seconds left on the access cookie (from login or the page)
 *   const r = await api('GET', '/v1/me'); // { status, ok, body } — body is parsed JSON or null
 *
 * The access and refresh tokens live only in httpOnly cookies set by the server; this module never sees a
 * token and never writes one anywhere (no localStorage, sessionStorage or readable cookie). It only copies
 * the readable CSRF cookie into the X-CSRF-Token header of unsafe requests.
 *
 * Refresh is coordinated across tabs: one Web Lock ('tessera-refresh') serialises refreshes, and the CSRF
 * cookie (re-issued on every refresh) tells a tab that waited for the lock that another tab already
 * rotated the refresh token — so open tabs never present the same refresh token twice (which the server
 * would treat as theft). A BroadcastChannel tells the other tabs the new expiry and about sign-outs.
 */

const CSRF_COOKIES = ['__Host-tessera_csrf', 'tessera_csrf'];
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const LOCK = 'tessera-refresh';
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('tessera-session') : null;

let lifetimeMs = 0; // full lifetime of the current access token
let deadline = 0; // local time (ms) when it expires
let timer;
let knownCsrf = csrfToken();
const signedOutListeners = new Set();

/** The readable, session-bound CSRF cookie, or undefined when there is no session. */
export function csrfToken() {
  for (const part of document.cookie.split(';')) {
    const eq = part.indexOf('=');
    const name = part.slice(0, eq).trim();
    if (CSRF_COOKIES.includes(name)) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

async function send(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const csrf = csrfToken();
  if (UNSAFE.has(method) && csrf) headers['x-csrf-token'] = csrf;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  return { status: res.status, ok: res.ok, body: parsed };
}

/**
 * Call the Tessera API with the session cookies. On 401 it refreshes once (coordinated with other tabs)
 * and retries; if the session is gone it notifies `onSignedOut` listeners. Rejects only on network errors.
 */
export async function api(method, path, body) {
  const used = csrfToken();
  const res = await send(method, path, body);
  // Only an expired or unknown access token is worth a refresh; a wrong MFA code (also 401) is not retried.
  if (res.status !== 401 || res.body?.code !== 'invalid_token' || path === '/v1/token' || !used) return res;
  if (!(await refresh(used))) return res;
  return send(method, path, body);
}

/** Begin silent refresh for a session whose access token has `expiresIn` seconds left. */
export function start({ expiresIn }) {
  knownCsrf = csrfToken();
  setExpiry(expiresIn);
}

/** Called when the session ends (signed out here, in another tab, or refused by the server). */
export function onSignedOut(fn) {
  signedOutListeners.add(fn);
  return () => signedOutListeners.delete(fn);
}

/** Sign out this session on the server, and tell the other tabs. */
export async function signOut() {
  const res = await api('POST', '/v1/logout');
  clearTimeout(timer);
  channel?.postMessage({ type: 'signed-out' });
  return res;
}

/** A new session began in this tab (after sign-in): other tabs pick up its expiry. */
export function signedIn({ expiresIn }) {
  start({ expiresIn });
  channel?.postMessage({ type: 'refreshed', expiresIn });
}

/**
 * Rotate the refresh cookie now, unless another tab already did since this tab last looked (`seen`: the
 * CSRF cookie value the decision to refresh was based on). Resolves true when the cookies are fresh, false
 * when the session is over (and signed-out listeners were told) or the network failed.
 */
export async function refresh(seen = knownCsrf) {
  const run = async () => {
    const now = csrfToken();
    if (now === undefined) return false;
    // Another tab refreshed while we waited for the lock: the cookies in the jar are already new.
    if (now !== seen) {
      knownCsrf = now;
      // It just got a full lifetime; its broadcast (usually here already) carries the exact figure.
      setExpiry(lifetimeMs / 1000 || 30);
      return true;
    }
    let res;
    try {
      res = await send('POST', '/v1/token', { grant_type: 'refresh_token' });
    } catch {
      schedule(5000); // offline: try again shortly, the refresh token is still unused
      return false;
    }
    if (!res.ok) {
      if (res.status === 400 || res.status === 401 || res.status === 403) ended();
      return false;
    }
    knownCsrf = csrfToken();
    setExpiry(res.body.expires_in);
    // Posted while still holding the lock, so the next tab in line usually knows before it looks.
    channel?.postMessage({ type: 'refreshed', expiresIn: res.body.expires_in });
    return true;
  };
  return navigator.locks ? navigator.locks.request(LOCK, run) : run();
}

function ended() {
  clearTimeout(timer);
  // The session is over: drop the (readable, now useless) CSRF cookie so pages stop trying to resume it.
  for (const name of CSRF_COOKIES) document.cookie = `${name}=; Max-Age=0; Path=/; Secure; SameSite=Strict`;
  for (const fn of signedOutListeners) fn();
}

function setExpiry(expiresIn) {
  lifetimeMs = Math.max(1, Number(expiresIn) || 0) * 1000;
  deadline = Date.now() + lifetimeMs;
  // Refresh a little before expiry: 20 % of the lifetime, between 5 s and 60 s ahead.
  const lead = Math.min(60_000, Math.max(5_000, lifetimeMs * 0.2));
  schedule(Math.max(0, deadline - Date.now() - lead));
}

function schedule(delayMs) {
  clearTimeout(timer);
  timer = setTimeout(() => void refresh(), delayMs);
}

channel?.addEventListener('message', (e) => {
  const msg = e.data;
  if (msg?.type === 'refreshed' && typeof msg.expiresIn === 'number') {
    knownCsrf = csrfToken();
    setExpiry(msg.expiresIn);
  } else if (msg?.type === 'signed-out') {
    clearTimeout(timer);
    for (const fn of signedOutListeners) fn();
  }
});

// A tab that slept (background throttling, a suspended laptop) catches up as soon as it is visible again.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && deadline > 0 && deadline - Date.now() < 5_000) void refresh();
});
