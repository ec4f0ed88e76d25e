/**
 * What people read about their account's security, in one place: the activity timeline (pages and
 * `GET /v1/events` `title`) and the security notices by mail take their sentences from here, so a mail and the
 * timeline entry of one event say the same thing, in words a person understands (never `pwd + otp`).
 */

/** RFC 8176 `amr` values, and the sign-in step `method`s, as a person would name them */
const AMR_WORDS: Record<string, string> = {
  pwd: 'password',
  otp: 'one-time code',
  sms: 'code by text message',
  hwk: 'security key',
  swk: 'passkey',
};
const METHOD_WORDS: Record<string, string> = {
  totp: 'authenticator app',
  recovery_code: 'recovery code',
  email_otp: 'code by email',
  sms_otp: 'code by text message',
  webauthn: 'security key or passkey',
};

/** "password and authenticator app", from a session's `amr` and, when recorded, the second step's method */
export function describeSignIn(amr: readonly string[], method?: string | null): string {
  const words: string[] = [];
  for (const m of amr) {
    // `mfa` and `user` say how many factors were used, not which: the other values name them
    if (m === 'mfa' || m === 'user') continue;
    const word = m === 'otp' && method && METHOD_WORDS[method] ? METHOD_WORDS[method] : AMR_WORDS[m];
    if (word && !words.includes(word)) words.push(word);
  }
  if (words.length === 0) return 'an unknown method';
  return words.length === 1 ? words[0] : `${words.slice(0, -1).join(', ')} and ${words.at(-1)!}`;
}

/** the factor named by an enrolment or removal event */
export function describeFactor(type: string, data: Record<string, unknown>): string {
  if (type === 'passkey_added' || type === 'passkey_removed') return typeof data.name === 'string' ? `the passkey “${data.name}”` : 'a passkey';
  if (data.method === 'sms') return 'codes by text message';
  return 'an authenticator app';
}

/** failure reasons in words (never `wrong_code`) */
const REASONS: Record<string, string> = {
  wrong_password: 'wrong password',
  unknown_email: 'no account with this email',
  wrong_code: 'wrong code',
  replayed_code: 'a code that was already used',
  wrong_recovery_code: 'wrong recovery code',
  expired: 'the code had expired',
  client_mismatch: 'from another browser or app than the one that started',
};
export const describeReason = (reason: string): string => REASONS[reason] ?? reason.replace(/_/g, ' ');

export const EVENT_TITLES: Record<string, string> = {
  account_created: 'Account created',
  email_verified: 'Email address confirmed',
  sign_up_existing: 'Someone tried to sign up with your address',
  account_reclaimed: 'Password reset reclaimed the account: earlier sign-in methods removed',
  login_succeeded: 'Signed in',
  login_failed: 'Failed sign-in',
  logout: 'Signed out',
  session_revoked: 'Session signed out',
  sessions_revoked: 'Sessions signed out',
  refresh_token_reused: 'Stolen session token detected',
  password_changed: 'Password changed',
  password_reset_requested: 'Password reset requested',
  password_reset_completed: 'Password reset',
  password_reset_required: 'Password reset required',
  account_unlocked: 'Account unlocked',
  mfa_enrolled: 'Two-step verification turned on',
  mfa_removed: 'Two-step verification turned off',
  mfa_failed: 'Failed second step',
  recovery_codes_regenerated: 'New recovery codes',
  recovery_code_used: 'Recovery code used',
  passkey_added: 'Passkey added',
  passkey_removed: 'Passkey removed',
  impossible_travel: 'Impossible travel',
  session_anomaly: 'Session moved to another device',
  new_country: 'Sign-in from a new country',
  new_device: 'Sign-in from a new device',
  keys_rotated: 'Signing keys rotated',
  password_change_failed: 'Wrong current password on a password change',
  login_approval_requested: 'Sign-in from a new address waits for approval',
  login_approved: 'Sign-in from a new address approved',
  totp_locked: 'Authenticator codes locked after too many wrong codes',
  oauth_authorized: 'App authorized',
  oauth_consent_granted: 'App approved',
  oauth_logout: 'Signed out from an app',
  oauth_consent_revoked: 'App access removed',
  authorization_code_reused: 'Authorization code reused',
  email_change_requested: 'Email change requested',
  email_changed: 'Email address changed',
  account_deleted: 'Account deleted',
  account_disabled: 'Account disabled by an administrator',
  account_enabled: 'Account enabled by an administrator',
};

/** The timeline title of one event: "Signed in with password and authenticator app". */
export function eventTitle(type: string, data: Record<string, unknown>): string {
  if (type === 'login_succeeded' && Array.isArray(data.amr)) {
    const amr = data.amr.filter((x): x is string => typeof x === 'string');
    return `Signed in with ${describeSignIn(amr, typeof data.method === 'string' ? data.method : null)}`;
  }
  if (type === 'mfa_enrolled' || type === 'passkey_added') return `Added ${describeFactor(type, data)} for two-step verification`;
  if (type === 'mfa_removed' || type === 'passkey_removed') return `Removed ${describeFactor(type, data)} from two-step verification`;
  return EVENT_TITLES[type] ?? type.replace(/_/g, ' ');
}

/** "Firefox on Linux"; never "other on other" (an unknown system is left out, an unknown browser named so) */
export function describeBrowser(f: { browser: string; os: string } | null): string | null {
  if (!f) return null;
  const browser = f.browser === 'other' ? 'Unknown browser' : f.browser;
  return f.os === 'other' ? browser : `${browser} on ${f.os}`;
}
