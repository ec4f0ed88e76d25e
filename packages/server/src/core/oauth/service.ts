/**
 * The OpenID Connect provider as the HTTP layer and the CLI see it: one facade over the provider's steps
 * (core/oauth/*), so no route reaches the OAuth store directly and every step keeps its checks.
 */
import type * as jose from 'jose';
import type { ClientStore } from '../../store/ports/clients.js';
import type { OAuthClientRow, OAuthSessionRow } from '../../store/ports/oauth.js';
import { TesseraError } from '../errors.js';
import type { RequestContext } from '../sessions.js';
import { checkAuthorizationRequest, type AuthorizationRequest, type AuthorizeCheck, type Params } from './authorize.js';
import { decide, errorRedirect, issueCode, type AuthorizeOutcome, type Viewer } from './authorize-flow.js';
import { RegistrationError, authenticateClient, isPublicClient, newClient, scopesOf, type NewClientInput, type PresentedClientAuth } from './clients.js';
import { rememberConsent } from './consent.js';
import { exchangeCode, type CodeExchangeInput } from './exchange.js';
import { clientCredentials, refreshOAuthSession } from './grants.js';
import type { OAuthProvider } from './index.js';
import type { OAuthTokenResponse } from './issue.js';

/** a registered client as routes and the CLI show it: the stored row without its secret's hash */
export type ClientSummary = Omit<OAuthClientRow, 'secretHash'>;

export interface AppGrant {
  clientId: string;
  name: string;
  scope: string[];
  grantedAt: number;
}

export interface LogoutRequest {
  idTokenHint: string | undefined;
  clientId: string | undefined;
  postLogoutRedirectUri: string | undefined;
  state: string | undefined;
}

export type LogoutCheck =
  | { kind: 'page'; reason: string }
  | { kind: 'ok'; hint: { sub: string; sid: string | undefined; aud: string } | undefined; redirect: string | undefined };

// field by field, not a rest spread: whatever else a row object carries (secretHash first) stays out
const summary = (c: OAuthClientRow): ClientSummary => ({
  id: c.id,
  name: c.name,
  type: c.type,
  redirectUris: c.redirectUris,
  postLogoutRedirectUris: c.postLogoutRedirectUris,
  backchannelLogoutUri: c.backchannelLogoutUri,
  firstParty: c.firstParty,
  scopes: c.scopes,
  audience: c.audience,
  createdAt: c.createdAt,
});

export class OAuthService {
  constructor(
    private readonly p: OAuthProvider,
    /** v1 resource-server credentials (feed, introspection, risk reports) */
    private readonly resourceClients: ClientStore,
    private readonly keyReloadSec: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Creates the RS256 ID-token keys on a new database (racing nodes agree) and loads them. */
  init(): Promise<void> {
    return this.p.idKeys.init();
  }

  /** Background work of a serving node: key reloads and back-channel logout deliveries. */
  start(): void {
    this.p.idKeys.start(this.keyReloadSec, this.onError);
    this.p.backchannel.start();
  }

  async stop(): Promise<void> {
    this.p.idKeys.stop();
    await this.p.backchannel.stop();
  }

  /** Run a back-channel pass now (a revocation just happened on this node). */
  wakeBackchannel(): void {
    this.p.backchannel.wake();
  }

  get issuer(): string {
    return this.p.deps.issuer;
  }

  /** The RS256 public keys (current, next, previous), published beside the access-token keys. */
  jwks(): jose.JWK[] {
    return this.p.idKeys.jwks();
  }

  rotateKeys(): Promise<void> {
    return this.p.idKeys.rotate();
  }

  // ---- clients -----------------------------------------------------------------------------------

  /**
   * Registers a client; its secret exists only in the answer. A resource server is also a v1 client (same id
   * and secret hash), so the feed, introspection and risk reports authenticate it as before.
   */
  async createClient(input: NewClientInput): Promise<{ clientId: string; secret: string | undefined }> {
    const { row, secret } = newClient(input, this.p.deps.clock.now());
    if (row.audience !== null && (await this.p.store.getOAuthClientByAudience(row.audience))) {
      throw new RegistrationError(`audience ${row.audience} is registered already`);
    }
    await this.p.store.createOAuthClient(row);
    if (row.type === 'resource' && row.secretHash !== null) {
      await this.resourceClients.createClient({ id: row.id, name: row.name, secretHash: row.secretHash, createdAt: row.createdAt });
    }
    return { clientId: row.id, secret };
  }

  /** Every client, including resource servers registered before OpenID Connect (v1). */
  async listClients(): Promise<ClientSummary[]> {
    const oauth = await this.p.store.listOAuthClients();
    const known = new Set(oauth.map((c) => c.id));
    const legacy = (await this.resourceClients.listClients()).filter((c) => !known.has(c.id));
    const all: ClientSummary[] = [
      ...oauth.map(summary),
      ...legacy.map((c) => ({ id: c.id, name: c.name, type: 'resource' as const, redirectUris: [], postLogoutRedirectUris: [], backchannelLogoutUri: null, firstParty: false, scopes: [], audience: null, createdAt: c.createdAt })),
    ];
    return all.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  async deleteClient(id: string): Promise<boolean> {
    const a = await this.p.store.deleteOAuthClient(id);
    const b = await this.resourceClients.deleteClient(id);
    return a || b;
  }

  #appOrigins: { at: number; origins: Promise<Set<string>> } | undefined;

  /**
   * Whether `origin` is the origin of a public client's registered redirect URI: a browser app there may
   * call the token, userinfo and revocation endpoints across origins (CORS, without cookies). Cached 5 s.
   */
  async isAppOrigin(origin: string): Promise<boolean> {
    const now = this.p.deps.clock.now();
    if (!this.#appOrigins || now - this.#appOrigins.at > 5000) {
      const origins = this.p.store.listOAuthClients().then((all) => new Set(all.filter(isPublicClient).flatMap((c) => c.redirectUris.map((u) => new URL(u).origin))));
      this.#appOrigins = { at: now, origins };
      origins.catch(() => (this.#appOrigins = undefined));
    }
    return (await this.#appOrigins.origins).has(origin);
  }

  getClient(id: string): Promise<OAuthClientRow | undefined> {
    return this.p.store.getOAuthClient(id);
  }

  // ---- authorization endpoint --------------------------------------------------------------------

  checkAuthorization(params: Params): Promise<AuthorizeCheck> {
    return checkAuthorizationRequest(params, {
      getClient: (id) => this.p.store.getOAuthClient(id),
      isAudience: async (uri) => (await this.p.store.getOAuthClientByAudience(uri)) !== undefined,
    });
  }

  /** The redirect of an error found after the client and redirect URI were checked (always with `iss`). */
  errorUrl(r: { redirectUri: string; state: string | undefined }, error: string, description: string): string {
    return errorRedirect(this.p.deps, r, error, description).url;
  }

  decide(r: AuthorizationRequest, viewer: Viewer | undefined, ctx: RequestContext): Promise<AuthorizeOutcome> {
    return decide(this.p.deps, r, viewer, ctx);
  }

  /** The user approved on /consent: remembered for this client and these scopes, and the code issued. */
  async approve(r: AuthorizationRequest, viewer: Viewer, ctx: RequestContext): Promise<string> {
    await rememberConsent(this.p.store, r.client.id, viewer.user.id, r.scope, this.p.deps.clock.now());
    await this.p.deps.events.record({ type: 'oauth_consent_granted', userId: viewer.user.id, sessionId: viewer.session.id, ip: ctx.ip, data: { client_id: r.client.id, scope: r.scope.join(' ') } });
    return issueCode(this.p.deps, r, viewer, ctx);
  }

  // ---- token endpoint ----------------------------------------------------------------------------

  authenticateClient(presented: PresentedClientAuth): Promise<OAuthClientRow> {
    return authenticateClient((id) => this.p.store.getOAuthClient(id), presented);
  }

  exchangeCode(input: CodeExchangeInput): Promise<OAuthTokenResponse> {
    return exchangeCode(this.p.deps, input);
  }

  /** Which client holds a session created through the code flow (undefined: a first-party session). */
  heldBy(sessionId: string): Promise<OAuthSessionRow | undefined> {
    return this.p.store.getOAuthSession(sessionId);
  }

  async refresh(client: OAuthClientRow, held: OAuthSessionRow, presented: string, ctx: RequestContext): Promise<OAuthTokenResponse> {
    // RFC 6749 §6 + OIDC Core §11: only a grant that asked for offline_access may be refreshed.
    if (!scopesOf(held.scope).includes('offline_access')) throw new TesseraError('invalid_grant', { reason: 'no offline_access' });
    return refreshOAuthSession(this.p.deps, client, held.sessionId, presented, ctx);
  }

  clientCredentials(client: OAuthClientRow, scope: string | undefined, resource: string | undefined, jkt: string | undefined): Promise<OAuthTokenResponse> {
    return clientCredentials(this.p.deps, client, scope, resource, jkt);
  }

  isPublic(client: OAuthClientRow): boolean {
    return isPublicClient(client);
  }

  // ---- logout ------------------------------------------------------------------------------------

  /**
   * RP-Initiated Logout 1.0 §2–3: the hint must be an ID token of ours; a post-logout redirect URI must be
   * registered for the client the hint (or client_id) names, exactly — else an error page, no redirect.
   */
  async checkLogout(q: LogoutRequest): Promise<LogoutCheck> {
    const hint = q.idTokenHint !== undefined ? await this.p.jwts.verifyIdTokenHint(q.idTokenHint) : undefined;
    if (q.idTokenHint !== undefined && !hint) return { kind: 'page', reason: 'id_token_hint is not an ID token of this provider' };
    if (hint && q.clientId !== undefined && q.clientId !== hint.aud) return { kind: 'page', reason: 'client_id does not match the id_token_hint' };
    if (q.postLogoutRedirectUri === undefined) return { kind: 'ok', hint, redirect: undefined };
    const clientId = hint?.aud ?? q.clientId;
    const client = clientId !== undefined ? await this.p.store.getOAuthClient(clientId) : undefined;
    if (!client || !client.postLogoutRedirectUris.includes(q.postLogoutRedirectUri)) return { kind: 'page', reason: 'post_logout_redirect_uri is not registered' };
    const u = new URL(q.postLogoutRedirectUri);
    if (q.state !== undefined) u.searchParams.set('state', q.state);
    return { kind: 'ok', hint, redirect: u.toString() };
  }

  /** The OAuth session the hint names, when it is the hinted user's own (revoked by RP-initiated logout). */
  async hintedSession(hint: { sub: string; sid: string | undefined }): Promise<string | undefined> {
    if (hint.sid === undefined) return undefined;
    const held = await this.p.store.getOAuthSession(hint.sid);
    return held && held.userId === hint.sub ? held.sessionId : undefined;
  }

  // ---- the user's apps ---------------------------------------------------------------------------

  async listApps(userId: string): Promise<AppGrant[]> {
    const out: AppGrant[] = [];
    for (const c of await this.p.store.listConsents(userId)) {
      const client = await this.p.store.getOAuthClient(c.clientId);
      out.push({ clientId: c.clientId, name: client?.name ?? c.clientId, scope: scopesOf(c.scope), grantedAt: c.createdAt });
    }
    return out;
  }

  /** Withdraws a consent and signs the app out: every session it holds for this user is revoked (feed). */
  async revokeApp(userId: string, clientId: string, ip: string): Promise<boolean> {
    const removed = await this.p.store.deleteConsent(userId, clientId);
    let revoked = 0;
    for (const s of await this.p.store.listOAuthSessionsOfUser(userId)) {
      if (s.clientId === clientId && (await this.p.deps.sessions.revoke(s.sessionId, 'app_revoked'))) revoked++;
    }
    if (removed || revoked > 0) await this.p.deps.events.record({ type: 'oauth_consent_revoked', userId, ip, data: { client_id: clientId } });
    return removed || revoked > 0;
  }
}
