/** The OpenID Connect provider, assembled from its parts (composition root: tessera.ts). */
import type { Clock } from '../../lib/clock.js';
import type { GeoPoint, Store } from '../../store/ports/index.js';
import type { OAuthStore } from '../../store/ports/oauth.js';
import type { SecretBox } from '../crypto.js';
import type { EventLog } from '../events.js';
import type { KeyManager } from '../keys.js';
import type { RevocationFeed } from '../revocations.js';
import type { SessionService } from '../sessions.js';
import { BackchannelLogout, type BackchannelOptions } from './backchannel.js';
import type { OAuthDeps } from './deps.js';
import { IdTokenKeys } from './id-token-keys.js';
import { OAuthJwts } from './jwt.js';

export interface OAuthProvider {
  store: OAuthStore;
  idKeys: IdTokenKeys;
  jwts: OAuthJwts;
  deps: OAuthDeps;
  backchannel: BackchannelLogout;
}

export interface OAuthProviderInput {
  store: Store;
  oauth: OAuthStore;
  box: SecretBox;
  keys: KeyManager;
  sessions: SessionService;
  events: EventLog;
  feed: RevocationFeed;
  clock: Clock;
  locate: (ip: string) => GeoPoint | null;
  issuer: string;
  audience: string;
  accessTtlSec: number;
  backchannel?: BackchannelOptions;
}

/** The provider's parts, wired; its ID-token keys still need `idKeys.init()` (createOAuthProvider does it). */
export function buildOAuthProvider(i: OAuthProviderInput): OAuthProvider {
  const idKeys = new IdTokenKeys(i.oauth, i.box, i.clock);
  const jwts = new OAuthJwts(i.keys, idKeys, i.clock, { issuer: i.issuer, accessTtlSec: i.accessTtlSec, idTokenTtlSec: 3600 });
  const deps: OAuthDeps = {
    store: i.store,
    oauth: i.oauth,
    sessions: i.sessions,
    events: i.events,
    jwts,
    clock: i.clock,
    locate: i.locate,
    issuer: i.issuer,
    defaultAudience: i.audience,
    codeTtlSec: 60,
  };
  const backchannel = new BackchannelLogout(i.oauth, i.feed, jwts, i.clock, i.backchannel);
  return { store: i.oauth, idKeys, jwts, deps, backchannel };
}

export async function createOAuthProvider(i: OAuthProviderInput): Promise<OAuthProvider> {
  const p = buildOAuthProvider(i);
  await p.idKeys.init();
  return p;
}
