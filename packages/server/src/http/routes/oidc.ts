/** The JSON side of the OpenID Connect provider: UserInfo, the consent answer, the user's apps. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TesseraError } from '../../core/errors.js';
import { emailClaims } from '../../core/oauth/claims.js';
import { scopesOf } from '../../core/oauth/clients.js';
import type { TesseraServices } from '../../tessera.js';
import { authOf, type HttpAuth } from '../auth.js';
import type { ZodApp } from '../schemas/common.js';
import { appsSchema, consentSchema, revokeAppSchema, userinfoPostSchema, userinfoSchema } from '../schemas/oidc.js';
import { paramsOf } from '../pages/oauth-pages.js';

export function oidcRoutes(app: ZodApp, t: TesseraServices, auth: HttpAuth): void {
  const userinfo = async (request: FastifyRequest, reply: FastifyReply) => {
    const a = await auth.authenticate(request, { clientTokens: true });
    // UserInfo answers for the token's grant (OIDC Core §5.3): an app's token with `openid`, never a cookie.
    if (a.via === 'cookie') throw new TesseraError('invalid_token', { reason: 'userinfo takes an access token, not the cookie' });
    const scope = scopesOf(typeof a.claims.scope === 'string' ? a.claims.scope : '');
    if (!scope.includes('openid')) throw new TesseraError('forbidden', { detail: 'The access token was not granted the openid scope.' });
    void reply.header('Cache-Control', 'no-store');
    return {
      sub: a.user.id,
      ...(scope.includes('email') ? emailClaims(a.user) : {}),
    };
  };
  // marked before validation: even a refused request gets application/json with `error`
  const mark = async (request: FastifyRequest) => {
    request.oauthProtocol = true;
  };
  app.get('/oauth/userinfo', { schema: userinfoSchema, onRequest: mark }, userinfo);
  app.post('/oauth/userinfo', { schema: userinfoPostSchema, onRequest: mark }, userinfo);

  app.post('/consent', { schema: consentSchema, preHandler: auth.required }, async (request) => {
    const a = authOf(request);
    // Consent is given by the person in the browser: a token an app holds can never approve an app.
    if (a.via !== 'cookie') throw new TesseraError('forbidden', { reason: 'consent outside the cookie session' });
    const check = await t.oauth.checkAuthorization(paramsOf(Object.fromEntries(groupParams(request.body.query))));
    if (check.kind === 'page') throw new TesseraError('invalid_request', { detail: 'The authorization request is not valid.', reason: check.reason });
    if (check.kind === 'redirect') return { redirect_to: t.oauth.errorUrl(check, check.error, check.description) };
    const r = check.request;
    if (request.body.decision === 'deny') return { redirect_to: t.oauth.errorUrl(r, 'access_denied', 'the user denied the request') };
    return { redirect_to: await t.oauth.approve(r, { user: a.user, session: a.session }, auth.context(request)) };
  });

  app.get('/v1/me/apps', { schema: appsSchema, preHandler: auth.required }, async (request) => {
    const apps = await t.oauth.listApps(authOf(request).user.id);
    return apps.map((g) => ({ client_id: g.clientId, name: g.name, scope: g.scope, granted_at: new Date(g.grantedAt).toISOString() }));
  });

  app.delete('/v1/me/apps/:client_id', { schema: revokeAppSchema, preHandler: auth.required }, async (request, reply) => {
    const a = authOf(request);
    if (!(await t.oauth.revokeApp(a.user.id, request.params.client_id, request.clientIp))) throw new TesseraError('not_found');
    t.oauth.wakeBackchannel();
    return reply.code(204).send();
  });
}

/** A query string as name → value (a repeated name → its values), as Fastify parses one. */
function groupParams(query: string): Array<[string, string | string[]]> {
  const map = new Map<string, string[]>();
  for (const [k, v] of new URLSearchParams(query.startsWith('?') ? query.slice(1) : query)) map.set(k, [...(map.get(k) ?? []), v]);
  return [...map].map(([k, v]) => [k, v.length === 1 ? v[0] : v]);
}
