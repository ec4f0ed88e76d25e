/** One-time recovery codes (only their hashes are stored). */

export interface RecoveryCodeStore {
  /** replaces every code of the user by `hashes` (duplicates collapse), in one transaction */
  replaceRecoveryCodes(userId: string, hashes: string[], at: number): Promise<void>;
  /** consume once; true when this call used an unused code with this hash */
  consumeRecoveryCode(userId: string, hash: string, at: number): Promise<boolean>;
  /** unused codes left */
  countRecoveryCodes(userId: string): Promise<number>;
  deleteRecoveryCodes(userId: string): Promise<void>;
}
