import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TesseraError } from '../../core/errors.js';
import type { AuthContext, HttpAuth } from '../auth.js';
import type { EventRow } from '../../store/ports/index.js';
import type { TesseraServices } from '../../tessera.js';
import { accountPage, eventsPage, sessionsPage } from './account-views.js';
import { adminPage } from './admin-view.js';
import { confirmEmailPage } from './lifecycle-views.js';
import { appsPage } from './oauth-views.js';
import { PAGE_CSP, withDpopMeta } from './layout.js';
import { approveSignInPage, boundPage, forbiddenPage, forgotPasswordPage, resetPasswordPage, resumePage, signInPage, signUpPage, verifyEmailPage } from './public-views.js';

const LINK_PAGES = { '/reset-password': resetPasswordPage, '/verify-email': verifyEmailPage, '/confirm-email': confirmEmailPage, '/approve-sign-in': approveSignInPage };

export const PUBLIC_DIR = fileURLToPath(new URL('../../../public/', import.meta.url));
/** The built @tessera/browser module, served as /static/tessera-client.js (pages.js imports it). */
const CLIENT_BUNDLE = createRequire(import.meta.url).resolve('@tessera/browser/bundle');

type SignedIn = (a: AuthContext, expiresIn: number, request: FastifyRequest) => Promise<string>;

function sendPage(reply: FastifyReply, page: string, code = 200): FastifyReply {
  return reply
    .code(code)
    .type('text/html; charset=utf-8')
    .header('Content-Security-Policy', PAGE_CSP)
    // Account pages carry personal data: never from a shared cache or the back-forward cache after sign-out.
    .header('Cache-Control', 'no-store')
    .send(page);
}

const q = (v: unknown): string => (typeof v === 'string' ? v.slice(0, 512) : '');

/** The server-rendered pages (API.md "Pages") and their static script and style under /static/. */
export async function pagesRoutes(app: FastifyInstance, t: TesseraServices, auth: HttpAuth): Promise<void> {
  await app.register(fastifyStatic, { root: PUBLIC_DIR, prefix: '/static/', index: false, list: false, dotfiles: 'deny' });
  app.get('/static/tessera-client.js', { schema: { hide: true } }, (_request, reply) => reply.sendFile(path.basename(CLIENT_BUNDLE), path.dirname(CLIENT_BUNDLE)));
  const hide = { schema: { hide: true } };
  const page = (reply: FastifyReply, html: string, code = 200) => sendPage(reply, withDpopMeta(html, auth.nonces.current(), t.clock.now()), code);

  // A GET carries no CSRF risk, so authenticate() checks only the access cookie's token and session here.
  // A key-bound session's plain navigation has no proof: 'bound' (the page script asks again with one).
  // The script's own request carries a proof: its refusal is the API's 401, which the client acts upon.
  const viewer = async (request: FastifyRequest): Promise<AuthContext | 'bound' | undefined> => {
    try {
      return await auth.authenticate(request);
    } catch (err) {
      if (request.headers.dpop !== undefined) throw err;
      return err instanceof TesseraError && err.code === 'invalid_dpop_proof' ? 'bound' : undefined;
    }
  };
  const expiresIn = (a: AuthContext) => Math.max(0, a.claims.exp - Math.floor(t.clock.now() / 1000));
  // The CSRF cookie lives as long as the refresh cookie and, unlike it, is sent with page requests.
  const mayResume = (request: FastifyRequest) => request.cookies[auth.names.csrf] !== undefined;

  const signedIn = (path: string, render: SignedIn) =>
    app.get(path, hide, async (request, reply) => {
      const a = await viewer(request);
      if (a === 'bound') return page(reply, boundPage());
      if (!a) {
        if (mayResume(request)) return page(reply, resumePage());
        return reply.header('Cache-Control', 'no-store').redirect(`/sign-in?next=${encodeURIComponent(path)}`);
      }
      return page(reply, await render(a, expiresIn(a), request));
    });

  app.get('/', hide, async (request, reply) => {
    const signedInOrMaybe = (await viewer(request)) !== undefined || mayResume(request);
    return reply.header('Cache-Control', 'no-store').redirect(signedInOrMaybe ? '/account' : '/sign-in');
  });
  app.get('/sign-in', hide, async (_request, reply) => page(reply, signInPage()));
  app.get('/sign-up', hide, async (_request, reply) => page(reply, signUpPage()));
  app.get('/forgot-password', hide, async (_request, reply) => page(reply, forgotPasswordPage()));
  // the pages of mailed links: each renders its form around the link's token
  for (const [path, render] of Object.entries(LINK_PAGES)) app.get(path, hide, async (request, reply) => page(reply, render(q((request.query as Record<string, unknown>).token))));

  signedIn('/account', async (a, ttl) => {
    const mfa = await t.mfa.manage.summary(a.user);
    return accountPage({ user: a.user, totp: mfa.totp, recoveryCodesLeft: mfa.recoveryCodesLeft, passkeys: mfa.passkeys }, ttl);
  });
  signedIn('/account/sessions', async (a, ttl) => sessionsPage(a.user, await t.sessions.listLive(a.user.id), a.session.id, ttl));
  signedIn('/account/apps', async (a, ttl) => appsPage(a.user, await t.oauth.listApps(a.user.id), ttl));
  signedIn('/account/events', async (a, ttl) => eventsPage(a.user, await t.events.list({ userId: a.user.id, limit: 100 }), ttl));

  adminPageRoute(app, t, viewer, page, expiresIn, mayResume);
}

type Viewer = (request: FastifyRequest) => Promise<AuthContext | 'bound' | undefined>;
type Send = (reply: FastifyReply, html: string, code?: number) => FastifyReply;

function adminPageRoute(app: FastifyInstance, t: TesseraServices, viewer: Viewer, page: Send, expiresIn: (a: AuthContext) => number, mayResume: (r: FastifyRequest) => boolean): void {
  const hide = { schema: { hide: true } };
  app.get('/admin', hide, async (request, reply) => {
    const a = await viewer(request);
    if (a === 'bound') return page(reply, boundPage());
    if (!a) {
      if (mayResume(request)) return page(reply, resumePage());
      return reply.header('Cache-Control', 'no-store').redirect('/sign-in?next=%2Fadmin');
    }
    if (!a.user.isAdmin) return page(reply, forbiddenPage({ email: a.user.email, isAdmin: false }, expiresIn(a)), 403);
    const query = request.query as Record<string, unknown>;
    const filter = { type: q(query.type), user: q(query.user).trim() };
    const subject = filter.user ? await t.accounts.findUser(filter.user) : undefined;
    const events = filter.user && !subject ? [] : await t.events.list({ ...(subject ? { userId: subject.id } : {}), ...(filter.type ? { type: filter.type } : {}), limit: 100 });
    const users = await adminUserList(t, q(query.query), q(query.cursor));
    const emails = await emailsOf(t, events);
    const view = adminPage(
      {
        admin: a.user,
        filter,
        events,
        emails,
        users,
        subject: subject ? { user: subject, sessions: await t.sessions.listLive(subject.id) } : undefined,
      },
      expiresIn(a),
    );
    return page(reply, view);
  });
}

/** one page of the admin user list; a cursor that is not ours starts again at the first page */
async function adminUserList(t: TesseraServices, query: string, cursor: string) {
  const page = await t.adminUsers.list({ limit: 25, ...(query ? { query } : {}), ...(cursor ? { cursor } : {}) }).catch((err: unknown) => {
    if (err instanceof TypeError) return t.adminUsers.list({ limit: 25, ...(query ? { query } : {}) });
    throw err;
  });
  return { query, items: page.items, nextCursor: page.nextCursor };
}

/** who the events name, by email (a deleted user has none) */
async function emailsOf(t: TesseraServices, events: readonly EventRow[]): Promise<Map<string, string>> {
  const emails = new Map<string, string>();
  for (const id of new Set(events.map((e) => e.userId).filter((x): x is string => x !== null))) {
    const u = await t.accounts.getUser(id);
    if (u) emails.set(id, u.email);
  }
  return emails;
}
