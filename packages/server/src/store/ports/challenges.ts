/** MFA challenges: the `mfa_token` of a sign-in in progress and WebAuthn ceremonies. */

export interface MfaChallengeRow {
  id: string;
  userId: string | null;
  secretHash: string;
  kind: 'mfa' | 'webauthn_register' | 'webauthn_login' | 'login_approval';
  /** WebAuthn challenge, or a hashed email/SMS OTP */
  challenge: string | null;
  failures: number;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  /** request context of the password step (ip, user agent, transport, dpop jkt) as JSON */
  context: Record<string, unknown>;
}

export interface ChallengeStore {
  insertMfaChallenge(row: MfaChallengeRow): Promise<void>;
  getMfaChallenge(id: string): Promise<MfaChallengeRow | undefined>;
  setMfaChallengeChallenge(id: string, challenge: string): Promise<void>;
  /** consume once: marks used only if unused and unexpired; returns the row when this call consumed it */
  consumeMfaChallenge(id: string, now: number): Promise<MfaChallengeRow | undefined>;
  /** guarded increment; returns the new failure count, 0 when there is no such challenge */
  incrementMfaFailures(id: string): Promise<number>;
}
