import type { EventLog } from '../events.js';
import { eventToJson } from '../events.js';
import type { MfaManager } from '../mfa/manage.js';
import type { LifecycleStore, OAuthStore, SessionRow, UserRow } from '../../store/ports/index.js';
import { isEmailVerified } from './verified.js';

export interface ExportDeps {
  lifecycle: Pick<LifecycleStore, 'listSessionsOfUser'>;
  oauth: Pick<OAuthStore, 'listConsents' | 'getOAuthClient'>;
  events: Pick<EventLog, 'list'>;
  mfa: Pick<MfaManager, 'summary'>;
}

export interface AccountExport {
  profile: { id: string; email: string; email_verified: boolean; roles: string[]; created_at: string };
  sessions: Array<Record<string, unknown>>;
  events: Array<Record<string, unknown>>;
  factors: Record<string, unknown>;
  apps: Array<Record<string, unknown>>;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** a session as the person may see it: where, from what, how; never a token, hash or key */
function sessionOf(s: SessionRow): Record<string, unknown> {
  return {
    id: s.id,
    created_at: iso(s.createdAt),
    last_seen_at: iso(s.lastSeenAt),
    expires_at: iso(s.expiresAt),
    ip: s.ip,
    location: { city: s.geo?.city ?? null, country: s.geo?.country ?? null },
    user_agent: s.userAgent,
    amr: s.amr,
    transport: s.transport,
    revoked_at: iso(s.revokedAt),
    revoke_reason: s.revokeReason,
  };
}

/**
 * Everything held about a person, as one document (GDPR art. 15 and 20). Built field by field from what
 * may be shown, never by copying rows: no password hash, factor secret, refresh token or code hash can slip in.
 */
export async function accountExport(d: ExportDeps, user: UserRow): Promise<AccountExport> {
  const mfa = await d.mfa.summary(user);
  const events = [];
  for (let before: number | undefined; ; ) {
    const page = await d.events.list({ userId: user.id, limit: 200, ...(before !== undefined ? { beforeId: before } : {}) });
    events.push(...page.map(eventToJson));
    if (page.length < 200) break;
    before = page.at(-1)!.id;
  }
  const apps = [];
  for (const c of await d.oauth.listConsents(user.id)) {
    const client = await d.oauth.getOAuthClient(c.clientId);
    apps.push({ client_id: c.clientId, name: client?.name ?? null, scope: c.scope, granted_at: iso(c.createdAt) });
  }
  return {
    profile: { id: user.id, email: user.email, email_verified: isEmailVerified(user), roles: user.isAdmin ? ['admin'] : [], created_at: new Date(user.createdAt).toISOString() },
    sessions: (await d.lifecycle.listSessionsOfUser(user.id)).map(sessionOf),
    events,
    factors: {
      totp: mfa.totp,
      passkeys: mfa.passkeys.map((p) => ({ id: p.id, name: p.name, created_at: iso(p.createdAt), last_used_at: iso(p.lastUsedAt) })),
      sms: mfa.sms,
      recovery_codes_left: mfa.recoveryCodesLeft,
    },
    apps,
  };
}
