/** Signing keys, shared by every node so all sign with the same current key. */

export type KeyState = 'next' | 'current' | 'previous' | 'retired';

export interface SigningKeyRow {
  kid: string;
  alg: string;
  publicJwk: string; // JSON
  privateSealed: string; // SecretBox-sealed private JWK JSON (or the HS256 secret marker)
  state: KeyState;
  createdAt: number;
}

export interface KeyStore {
  listSigningKeys(): Promise<SigningKeyRow[]>;
  insertSigningKey(row: SigningKeyRow): Promise<void>;
  /**
   * In one transaction, excluding concurrent rotations: previous → retired, current → previous,
   * next → current, insert `newNext` (so racing rotations never leave two current keys).
   */
  rotateSigningKeys(newNext: SigningKeyRow): Promise<void>;
}
