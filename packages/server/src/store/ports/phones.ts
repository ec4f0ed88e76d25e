/** The phone of the SMS second factor. */

/** `confirmedAt` null while the enrolment code is pending */
export interface SmsPhoneRow {
  userId: string;
  /** the E.164 number, SecretBox-sealed with the user id as AAD */
  phoneSealed: string;
  /** display form, e.g. +44••••••789 */
  phoneMasked: string;
  confirmedAt: number | null;
  /** hash of the pending enrolment code; null once confirmed */
  codeHash: string | null;
  codeExpiresAt: number | null;
  /** guesses at the pending code, counted before each check */
  attempts: number;
  createdAt: number;
}

export interface PhoneStore {
  /** insert, or replace an unconfirmed enrolment; false (nothing written) when a confirmed phone exists */
  putSmsPhone(row: SmsPhoneRow): Promise<boolean>;
  getSmsPhone(userId: string): Promise<SmsPhoneRow | undefined>;
  /** guarded increment of an unconfirmed enrolment's attempts; returns the new count, 0 when there is none */
  incrementSmsAttempts(userId: string): Promise<number>;
  /**
   * consume once: confirms an unconfirmed enrolment only if its pending code is `codeHash` and unexpired at
   * `at`, and clears the code; true when this call confirmed it
   */
  confirmSmsPhone(userId: string, codeHash: string, at: number): Promise<boolean>;
  deleteSmsPhone(userId: string): Promise<boolean>;
}
