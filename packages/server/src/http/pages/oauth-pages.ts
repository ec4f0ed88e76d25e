/**
 * The browser side of the OpenID Connect provider: the authorization endpoint (GET and POST), the consent
 * page and RP-initiated logout. The user's own Tessera cookie session is what signs them in here.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LOGIN_AFTER_PARAM, type AuthorizationRequest, type Params } from '../../core/oauth/authorize.js';
import type { Viewer } from '../../core/oauth/authorize-flow.js';
import type { TesseraServices } from '../../tessera.js';
import type { AuthContext, HttpAuth } from '../auth.js';
import { TesseraError } from '../../core/errors.js';
import { clearSessionCookies } from '../cookies.js';
import { PAGE_CSP, withDpopMeta } from './layout.js';
import { authorizeBoundPage, authorizeErrorPage, confirmLogoutPage, consentPage, signedOutPage } from './oauth-views.js';
import { boundPage, resumePage } from './public-views.js';

/** Pages that decide about a user's grant: never in a frame (clickjacking of Allow / Sign out). */
export function sendFramelessPage(reply: FastifyReply, page: string, code = 200): FastifyReply {
  return reply
    .code(code)
    .type('text/html; charset=utf-8')
    .header('Content-Security-Policy', PAGE_CSP)
    .header('X-Frame-Options', 'DENY')
    .header('Cache-Control', 'no-store')
    .send(page);
}

/** The parameters of a GET query or a form POST as parsed (a repeated name is an array, refused later). */
export function paramsOf(v: unknown): Params {
  if (!v || typeof v !== 'object') return {};
  const out: Params = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (typeof val === 'string') out[k] = val;
    else if (Array.isArray(val)) out[k] = val.map(String);
  }
  return out;
}

export function queryOf(params: Params, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (k === LOGIN_AFTER_PARAM) continue;
    for (const one of Array.isArray(v) ? v : v !== undefined ? [v] : []) q.append(k, one);
  }
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  return q.toString();
}

const viewerOf = (a: AuthContext): Viewer => ({ user: a.user, session: a.session });

// The page script's own request (pages.js, for a key-bound session) carries a DPoP proof and reads JSON.
const fromScript = (request: FastifyRequest) => request.headers.dpop !== undefined;

/**
 * Only the browser's own cookie session signs a user in here: a token an app holds never does. A key-bound
 * session's plain navigation has no proof: 'bound' (a shell whose script asks again with one); the
 * script's request is refused outright when its proof is bad, so a copied cookie decides nothing.
 */
function cookieViewerOf(auth: HttpAuth) {
  return async (request: FastifyRequest): Promise<AuthContext | 'bound' | undefined> => {
    try {
      const a = await auth.authenticate(request);
      return a.via === 'cookie' ? a : undefined;
    } catch (err) {
      if (fromScript(request)) throw err;
      return auth.bindsBrowsers && err instanceof TesseraError && err.code === 'invalid_dpop_proof' ? 'bound' : undefined;
    }
  };
}

const expiresInOf = (t: TesseraServices, a: AuthContext) => Math.max(0, a.claims.exp - Math.floor(t.clock.now() / 1000));
const noStore = (reply: FastifyReply) => reply.header('Cache-Control', 'no-store');

export function oauthPages(app: FastifyInstance, t: TesseraServices, auth: HttpAuth): void {
  const hide = { schema: { hide: true } };
  const cookieViewer = cookieViewerOf(auth);
  const expiresIn = (a: AuthContext) => expiresInOf(t, a);
  // A fetch cannot follow a redirect to the app (another origin): the script is told where to go instead.
  const go = (request: FastifyRequest, reply: FastifyReply, url: string): FastifyReply =>
    fromScript(request) ? noStore(reply).type('application/json').send({ redirect: url }) : noStore(reply).redirect(url);
  const shell = (reply: FastifyReply, page: string) => sendFramelessPage(reply, withDpopMeta(page, auth.nonces.current(), t.clock.now()));

  /** Off to /sign-in (password, then MFA as usual), and back here; `prompt=login`/`max_age` need a fresh sign-in. */
  const toSignIn = (request: FastifyRequest, reply: FastifyReply, params: Params, r: AuthorizationRequest): FastifyReply => {
    const fresh: Record<string, string> = r.prompt.has('login') || r.maxAge !== undefined ? { [LOGIN_AFTER_PARAM]: String(t.clock.now()) } : {};
    const next = `/oauth/authorize?${queryOf(params, fresh)}`;
    const hint = r.loginHint !== undefined ? `&login_hint=${encodeURIComponent(r.loginHint)}` : '';
    return go(request, reply, `/sign-in?next=${encodeURIComponent(next)}${hint}`);
  };

  const authorize = async (request: FastifyRequest, reply: FastifyReply, params: Params): Promise<FastifyReply> => {
    const check = await t.oauth.checkAuthorization(params);
    if (check.kind === 'page') return sendFramelessPage(reply, authorizeErrorPage(check.reason), 400);
    if (check.kind === 'redirect') return go(request, reply, t.oauth.errorUrl(check, check.error, check.description));
    const r = check.request;
    const a = await cookieViewer(request);
    if (a === 'bound') return shell(reply, authorizeBoundPage(request.method === 'POST' ? params : undefined));
    // The access cookie expired but the refresh cookie may live on: the resume page refreshes and reloads.
    if (!a && !fromScript(request) && !r.prompt.has('none') && request.method === 'GET' && request.cookies[auth.names.csrf] !== undefined) return sendFramelessPage(reply, resumePage());
    const outcome = await t.oauth.decide(r, a && viewerOf(a), auth.context(request));
    if (outcome.kind === 'redirect') return go(request, reply, outcome.url);
    if (outcome.kind === 'sign-in') return toSignIn(request, reply, params, r);
    return go(request, reply, `/consent?${queryOf(params)}`);
  };
  app.get('/oauth/authorize', hide, async (request, reply) => authorize(request, reply, paramsOf(request.query)));
  app.post('/oauth/authorize', hide, async (request, reply) => authorize(request, reply, paramsOf(request.body)));

  app.get('/consent', hide, async (request, reply) => {
    const params = paramsOf(request.query);
    const check = await t.oauth.checkAuthorization(params);
    if (check.kind === 'page') return sendFramelessPage(reply, authorizeErrorPage(check.reason), 400);
    if (check.kind === 'redirect') return noStore(reply).redirect(t.oauth.errorUrl(check, check.error, check.description));
    const a = await cookieViewer(request);
    if (a === 'bound') return shell(reply, boundPage());
    if (!a) return toSignIn(request, reply, params, check.request);
    if (check.request.client.firstParty) return go(request, reply, `/oauth/authorize?${queryOf(params)}`);
    return sendFramelessPage(reply, consentPage({ user: a.user, clientName: check.request.client.name, scope: check.request.scope, expiresIn: expiresIn(a) }));
  });
  oauthLogoutPages(app, t, auth);
}

/** RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0), GET and POST. */
function oauthLogoutPages(app: FastifyInstance, t: TesseraServices, auth: HttpAuth): void {
  const hide = { schema: { hide: true } };
  const cookieViewer = cookieViewerOf(auth);
  const expiresIn = (a: AuthContext) => expiresInOf(t, a);
  /**
   * A key-bound session's navigation to the app's logout, without a proof: its access cookie names the
   * session to end. Ending a session (and only when the app's ID token names the same user) reveals and
   * grants nothing, so no proof is asked for.
   */
  const boundSession = async (request: FastifyRequest): Promise<{ sub: string; sid: string } | undefined> => {
    const token = request.cookies[auth.names.access];
    const claims = token === undefined ? undefined : await t.tokens.verifyAccessToken(token).catch(() => undefined);
    return claims && typeof claims.sid === 'string' && claims.client_id === undefined ? { sub: claims.sub, sid: claims.sid } : undefined;
  };

  const logout = async (request: FastifyRequest, reply: FastifyReply, params: Params): Promise<FastifyReply> => {
    const one = (k: string) => (typeof params[k] === 'string' ? params[k] : undefined);
    const check = await t.oauth.checkLogout({ idTokenHint: one('id_token_hint'), clientId: one('client_id'), postLogoutRedirectUri: one('post_logout_redirect_uri'), state: one('state') });
    if (check.kind === 'page') return sendFramelessPage(reply, authorizeErrorPage(check.reason), 400);
    const seen = await cookieViewer(request);
    const a = seen === 'bound' ? undefined : seen;
    if (!check.hint) return sendFramelessPage(reply, confirmLogoutPage(a?.user, a && expiresIn(a)));
    // The ID token names the user: their app session, and this browser's session when it is theirs, end here.
    const app = await t.oauth.hintedSession(check.hint);
    if (app !== undefined) await t.sessions.revoke(app, 'rp_logout');
    const own = seen === 'bound' ? await boundSession(request) : a && { sub: a.user.id, sid: a.session.id };
    if (own && own.sub === check.hint.sub) {
      await t.sessions.revoke(own.sid, 'rp_logout');
      clearSessionCookies(reply, auth.names, t.config.TESSERA_COOKIE_SECURE);
    }
    t.oauth.wakeBackchannel();
    await t.events.record({ type: 'oauth_logout', userId: check.hint.sub, sessionId: app ?? null, ip: request.clientIp, data: { client_id: check.hint.aud } });
    if (check.redirect !== undefined) return noStore(reply).redirect(check.redirect, 303);
    return sendFramelessPage(reply, signedOutPage());
  };
  app.get('/oauth/logout', hide, async (request, reply) => logout(request, reply, paramsOf(request.query)));
  app.post('/oauth/logout', hide, async (request, reply) => logout(request, reply, paramsOf(request.body)));
}
