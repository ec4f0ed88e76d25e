/**
 * The browser side of the OpenID Connect provider: the authorization endpoint (GET and POST), the consent
 * page and RP-initiated logout. The user's own Tessera cookie session is what signs them in here.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LOGIN_AFTER_PARAM, type AuthorizationRequest, type Params } from '../../core/oauth/authorize.js';
import type { Viewer } from '../../core/oauth/authorize-flow.js';
import type { TesseraServices } from '../../tessera.js';
import type { AuthContext, HttpAuth } from '../auth.js';
import { clearSessionCookies } from '../cookies.js';
import { PAGE_CSP } from './layout.js';
import { authorizeErrorPage, confirmLogoutPage, consentPage, signedOutPage } from './oauth-views.js';
import { resumePage } from './public-views.js';

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

export function oauthPages(app: FastifyInstance, t: TesseraServices, auth: HttpAuth): void {
  const hide = { schema: { hide: true } };
  // Only the browser's own cookie session signs a user in here: a token an app holds never does.
  const cookieViewer = async (request: FastifyRequest): Promise<AuthContext | undefined> => {
    const a = await auth.authenticate(request).catch(() => undefined);
    return a?.via === 'cookie' ? a : undefined;
  };
  const expiresIn = (a: AuthContext) => Math.max(0, a.claims.exp - Math.floor(t.clock.now() / 1000));
  const noStore = (reply: FastifyReply) => reply.header('Cache-Control', 'no-store');

  /** Off to /sign-in (password, then MFA as usual), and back here; `prompt=login`/`max_age` need a fresh sign-in. */
  const toSignIn = (reply: FastifyReply, params: Params, r: AuthorizationRequest): FastifyReply => {
    const fresh: Record<string, string> = r.prompt.has('login') || r.maxAge !== undefined ? { [LOGIN_AFTER_PARAM]: String(t.clock.now()) } : {};
    const next = `/oauth/authorize?${queryOf(params, fresh)}`;
    const hint = r.loginHint !== undefined ? `&login_hint=${encodeURIComponent(r.loginHint)}` : '';
    return noStore(reply).redirect(`/sign-in?next=${encodeURIComponent(next)}${hint}`);
  };

  const authorize = async (request: FastifyRequest, reply: FastifyReply, params: Params): Promise<FastifyReply> => {
    const check = await t.oauth.checkAuthorization(params);
    if (check.kind === 'page') return sendFramelessPage(reply, authorizeErrorPage(check.reason), 400);
    if (check.kind === 'redirect') return noStore(reply).redirect(t.oauth.errorUrl(check, check.error, check.description));
    const r = check.request;
    const a = await cookieViewer(request);
    // The access cookie expired but the refresh cookie may live on: the resume page refreshes and reloads.
    if (!a && !r.prompt.has('none') && request.method === 'GET' && request.cookies[auth.names.csrf] !== undefined) return sendFramelessPage(reply, resumePage());
    const outcome = await t.oauth.decide(r, a && viewerOf(a), auth.context(request));
    if (outcome.kind === 'redirect') return noStore(reply).redirect(outcome.url);
    if (outcome.kind === 'sign-in') return toSignIn(reply, params, r);
    return noStore(reply).redirect(`/consent?${queryOf(params)}`);
  };
  app.get('/oauth/authorize', hide, async (request, reply) => authorize(request, reply, paramsOf(request.query)));
  app.post('/oauth/authorize', hide, async (request, reply) => authorize(request, reply, paramsOf(request.body)));

  app.get('/consent', hide, async (request, reply) => {
    const params = paramsOf(request.query);
    const check = await t.oauth.checkAuthorization(params);
    if (check.kind === 'page') return sendFramelessPage(reply, authorizeErrorPage(check.reason), 400);
    if (check.kind === 'redirect') return noStore(reply).redirect(t.oauth.errorUrl(check, check.error, check.description));
    const a = await cookieViewer(request);
    if (!a) return toSignIn(reply, params, check.request);
    if (check.request.client.firstParty) return noStore(reply).redirect(`/oauth/authorize?${queryOf(params)}`);
    return sendFramelessPage(reply, consentPage({ user: a.user, clientName: check.request.client.name, scope: check.request.scope, expiresIn: expiresIn(a) }));
  });

  const logout = async (request: FastifyRequest, reply: FastifyReply, params: Params): Promise<FastifyReply> => {
    const one = (k: string) => (typeof params[k] === 'string' ? params[k] : undefined);
    const check = await t.oauth.checkLogout({ idTokenHint: one('id_token_hint'), clientId: one('client_id'), postLogoutRedirectUri: one('post_logout_redirect_uri'), state: one('state') });
    if (check.kind === 'page') return sendFramelessPage(reply, authorizeErrorPage(check.reason), 400);
    const a = await cookieViewer(request);
    if (!check.hint) return sendFramelessPage(reply, confirmLogoutPage(a?.user, a && expiresIn(a)));
    // The ID token names the user: their app session, and this browser's session when it is theirs, end here.
    const app = await t.oauth.hintedSession(check.hint);
    if (app !== undefined) await t.sessions.revoke(app, 'rp_logout');
    if (a && a.user.id === check.hint.sub) {
      await t.sessions.revoke(a.session.id, 'rp_logout');
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
