/** The authenticated request's one read: a session, its user and the user's second factors. */
import type { SessionRow } from './sessions.js';
import type { UserRow } from './users.js';

/** what `GET /v1/me` shows of the second factors */
export interface MfaCounts {
  /** a confirmed authenticator app */
  totp: boolean;
  passkeys: number;
  /** the confirmed phone's display form */
  sms: string | null;
  recoveryCodesLeft: number;
}

export interface Principal {
  session: SessionRow;
  user: UserRow;
  mfa: MfaCounts;
}

export interface PrincipalStore {
  /** the session, its user and the user's MFA summary in one query; undefined when either row is missing */
  getPrincipal(sessionId: string): Promise<Principal | undefined>;
  /** the user's MFA summary alone (what a sign-in needs to pick its second step), in one query */
  getMfaCounts(userId: string): Promise<MfaCounts>;
}
