/**
 * The storage ports: one narrow interface per area, so each core service takes only what it uses. The
 * composition root passes one `Store` (all ports) to every service.
 */
import type { Store } from '../types.js';

export type * from '../types.js';

export type UserStore = Pick<Store, 'createUser' | 'getUserById' | 'getUserByEmail' | 'setPasswordHash' | 'setPasswordResetRequired'>;
export type SessionStore = Pick<
  Store,
  | 'createSession'
  | 'getSession'
  | 'listLiveSessions'
  | 'touchSession'
  | 'revokeSession'
  | 'revokeUserSessions'
  | 'insertRefreshToken'
  | 'getRefreshToken'
  | 'listRefreshTokens'
  | 'rotateRefreshToken'
>;
export type KeyStore = Pick<Store, 'listSigningKeys' | 'insertSigningKey' | 'rotateSigningKeys'>;
export type ClientStore = Pick<Store, 'createClient' | 'getClient'>;
export type EventStore = Pick<Store, 'appendEvent' | 'listEvents'>;
export type RevocationStore = Pick<Store, 'appendRevocation' | 'listRevocationsSince' | 'latestRevocationCursor' | 'pruneRevocations'>;
export type ResetStore = Pick<Store, 'insertPasswordReset' | 'getPasswordReset' | 'consumePasswordReset' | 'voidPasswordResets'>;
export type TotpStore = Pick<Store, 'putTotp' | 'getTotp' | 'confirmTotp' | 'deleteTotp' | 'useTotpStep'>;
export type RecoveryCodeStore = Pick<Store, 'replaceRecoveryCodes' | 'consumeRecoveryCode' | 'countRecoveryCodes' | 'deleteRecoveryCodes'>;
export type WebauthnStore = Pick<
  Store,
  'insertWebauthnCredential' | 'getWebauthnCredential' | 'listWebauthnCredentials' | 'updateWebauthnCounter' | 'deleteWebauthnCredential'
>;
export type ChallengeStore = Pick<
  Store,
  'insertMfaChallenge' | 'getMfaChallenge' | 'setMfaChallengeChallenge' | 'consumeMfaChallenge' | 'incrementMfaFailures'
>;
export type PhoneStore = Pick<Store, 'putSmsPhone' | 'getSmsPhone' | 'incrementSmsAttempts' | 'confirmSmsPhone' | 'deleteSmsPhone'>;
export type MaintenanceStore = Pick<Store, 'migrate' | 'ping' | 'close' | 'pruneExpired'>;
export type { Store };
