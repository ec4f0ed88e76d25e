import type { Clock } from '../../lib/clock.js';
import type { GeoPoint, Store } from '../../store/ports/index.js';
import type { OAuthStore } from '../../store/ports/oauth.js';
import type { EventLog } from '../events.js';
import type { SessionService } from '../sessions.js';
import type { OAuthJwts } from './jwt.js';

/** What the provider's steps use; wired once in the composition root. */
export interface OAuthDeps {
  store: Store;
  oauth: OAuthStore;
  sessions: SessionService;
  events: EventLog;
  jwts: OAuthJwts;
  clock: Clock;
  locate: (ip: string) => GeoPoint | null;
  issuer: string;
  /** audience of tokens that name no resource: the issuer's own APIs (userinfo, /v1/*) */
  defaultAudience: string;
  codeTtlSec: number;
}
