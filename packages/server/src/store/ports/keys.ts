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
  /**
   * Creates `current` and `next` of one algorithm in one transaction excluding concurrent rotations, unless
   * that algorithm already has a `current` key: nodes starting together on an empty database each call it,
   * exactly one inserts, and all sign with the same key from the first token on. True when this call inserted.
   */
  bootstrapSigningKeys(current: SigningKeyRow, next: SigningKeyRow): Promise<boolean>;
}

/** The key-encryption key's check value; the reads work before migrations ran (a missing table is "nothing"). */
export interface KekCheckStore {
  /** the stored check value; undefined on a fresh or not yet migrated database */
  getKekCheck(): Promise<string | undefined>;
  /** stores the check value unless one is stored; returns the stored one (the first writer's) */
  putKekCheck(value: string, at: number): Promise<string>;
  /** one sealed signing key, to try the KEK on a database that holds keys but no check value yet */
  anySealedKey(): Promise<{ kid: string; sealed: string } | undefined>;
}
