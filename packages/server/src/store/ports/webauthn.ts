/** WebAuthn credentials (passkeys, security keys). */

export interface WebauthnCredentialRow {
  id: string; // credential id, base64url
  userId: string;
  publicKey: string; // base64url COSE key
  counter: number;
  transports: string[];
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface WebauthnStore {
  insertWebauthnCredential(row: WebauthnCredentialRow): Promise<void>;
  getWebauthnCredential(id: string): Promise<WebauthnCredentialRow | undefined>;
  /** oldest first */
  listWebauthnCredentials(userId: string): Promise<WebauthnCredentialRow[]>;
  /**
   * guarded: only moves the counter forward (a cloned authenticator replays an old counter). Exception:
   * 0 → 0 is accepted, because many authenticators (passkeys synced across devices) always report 0 and so
   * cannot signal cloning; once a credential has reported a non-zero counter, 0 or any value not above the
   * stored one is refused.
   */
  updateWebauthnCounter(id: string, counter: number, usedAt: number): Promise<boolean>;
  /** deletes only the owner's credential; true when this call deleted it */
  deleteWebauthnCredential(userId: string, id: string): Promise<boolean>;
}
