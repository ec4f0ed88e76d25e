/**
 * Mail bodies: plain text plus simple HTML. Every interpolated value is HTML-escaped (a city name, a user
 * agent or an address comes from the request and could otherwise inject markup or a phishing link).
 * Subjects never carry the link or code, so the outbox log line stays free of secrets.
 */

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

import { eventTitle } from './wording.js';

const PRODUCT = 'Tessera';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

export function formatTime(at: number): string {
  return `${new Date(at).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function formatPlace(geo: { city: string | null; country: string | null } | null | undefined): string | null {
  const parts = [geo?.city, geo?.country].filter((p): p is string => !!p);
  return parts.length ? parts.join(', ') : null;
}

export type Line = string | { link: string; label: string } | { code: string };

export function render(subject: string, lines: Line[]): RenderedMail {
  const text = lines
    .map((l) => (typeof l === 'string' ? l : 'link' in l ? l.link : l.code))
    .join('\n\n');
  const body = lines
    .map((l) => {
      if (typeof l === 'string') return `<p>${escapeHtml(l).replace(/\n/g, '<br>')}</p>`;
      if ('link' in l) return `<p><a href="${escapeHtml(l.link)}">${escapeHtml(l.label)}</a></p><p style="font-size:12px;color:#555">${escapeHtml(l.link)}</p>`;
      return `<p style="font-size:24px;letter-spacing:4px;font-family:monospace"><strong>${escapeHtml(l.code)}</strong></p>`;
    })
    .join('\n');
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;max-width:560px">\n${body}\n</body></html>\n`;
  return { subject, text: `${text}\n`, html };
}

/** Only http(s) links go into a mail: a `javascript:` URL must never become a button. */
export function safeLink(link: string): string {
  const u = new URL(link);
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TypeError('mail: link must be http(s)');
  return u.href;
}

export function passwordResetMail(p: { link: string; expiresInMinutes: number }): RenderedMail {
  return render(`Reset your ${PRODUCT} password`, [
    `Someone (hopefully you) asked to reset the password of your ${PRODUCT} account.`,
    { link: safeLink(p.link), label: 'Choose a new password' },
    `The link works once and expires in ${p.expiresInMinutes} minutes. If you did not ask for it, ignore this message: your password has not changed.`,
  ]);
}

export function securityAlertMail(p: {
  event: 'impossible_travel' | 'session_anomaly';
  place: string | null;
  at: number;
  ip: string | null;
  device?: string | null;
  resetLink?: string;
}): RenderedMail {
  const where = [p.place, p.ip ? `IP ${p.ip}` : null].filter(Boolean).join(', ') || 'an unknown place';
  const what =
    p.event === 'impossible_travel'
      ? `Your ${PRODUCT} account was used from ${where} at ${formatTime(p.at)}, too far from where it had just been used for one person to travel.`
      : `One of your ${PRODUCT} sessions was used at ${formatTime(p.at)} from a different browser or device${p.device ? ` (${p.device})` : ''}, from ${where}.`;
  return render(`Security alert: your ${PRODUCT} sessions were signed out`, [
    what,
    'To protect you, we signed out your sessions and you must reset your password before signing in again.',
    ...(p.resetLink ? [{ link: safeLink(p.resetLink), label: 'Reset your password' }] : []),
    'If this was not you, someone may know your password: choose a new one you use nowhere else and turn on two-factor authentication.',
  ]);
}

export function newSignInMail(p: { place: string | null; at: number; ip: string | null; device: string | null; sessionsLink?: string; newCountry?: boolean }): RenderedMail {
  const details = [
    `When: ${formatTime(p.at)}`,
    `Where: ${p.place ?? 'unknown'}${p.ip ? ` (IP ${p.ip})` : ''}`,
    `Device: ${p.device ?? 'unknown'}`,
  ].join('\n');
  return render(`New sign-in to your ${PRODUCT} account`, [
    `Your ${PRODUCT} account was just signed in to from ${p.newCountry ? 'a country it has not been used from before' : 'a new device'}.`,
    details,
    'If this was you, there is nothing to do. If not, sign out that session and change your password.',
    ...(p.sessionsLink ? [{ link: safeLink(p.sessionsLink), label: 'Review your sessions' }] : []),
  ]);
}

export function emailOtpMail(p: { code: string; expiresInMinutes: number }): RenderedMail {
  return render(`Your ${PRODUCT} sign-in code`, [
    'Your sign-in code is:',
    { code: p.code },
    `It expires in ${p.expiresInMinutes} minutes. Never share it: ${PRODUCT} staff will never ask for it.`,
  ]);
}

/** A correct password from a new address while the account was under attack: the owner approves it by link. */
export function loginApprovalMail(p: { link: string; expiresInMinutes: number; ip: string; device: string | null; at: number }): RenderedMail {
  return render(`${PRODUCT}: approve a sign-in from a new address`, [
    `Someone signed in to your account with the correct password from an address it has not used before, while many wrong passwords were being tried. The sign-in waits for your approval.`,
    `When: ${formatTime(p.at)}\nAddress: ${p.ip}\nDevice: ${p.device ?? 'unknown'}`,
    { link: safeLink(p.link), label: 'Approve this sign-in' },
    `The link works once, for ${p.expiresInMinutes} minutes. If this was not you, do not approve it: change your password, because whoever tried knows it.`,
  ]);
}

/** Too many wrong authenticator codes: TOTP is locked until a recovery code or a password reset. */
export function totpLockedMail(p: { at: number; resetLink: string }): RenderedMail {
  return render(`${PRODUCT}: authenticator codes locked on your account`, [
    `Too many wrong authenticator codes were entered for your account (last at ${formatTime(p.at)}), so authenticator codes are refused for now.`,
    `To sign in, use one of your recovery codes or reset your password; either unlocks the authenticator again.`,
    { link: safeLink(p.resetLink), label: 'Reset your password' },
    `If you did not try to sign in, someone knows your password: reset it.`,
  ]);
}

/** the security notices mailed for an event of the timeline: the same title the timeline shows */
export type NoticeEvent =
  | 'password_changed'
  | 'password_reset_completed'
  | 'mfa_enrolled'
  | 'mfa_removed'
  | 'passkey_added'
  | 'passkey_removed'
  | 'recovery_codes_regenerated';

export const NOTICE_EVENTS: ReadonlySet<string> = new Set<NoticeEvent>(['password_changed', 'password_reset_completed', 'mfa_enrolled', 'mfa_removed', 'passkey_added', 'passkey_removed', 'recovery_codes_regenerated']);

const NOTICE_CONSEQUENCE: Record<NoticeEvent, string> = {
  password_changed: 'Your other sessions were signed out.',
  password_reset_completed: 'Every session was signed out; sign in with the new password.',
  mfa_enrolled: 'It will be asked for when you sign in.',
  mfa_removed: 'It is no longer asked for when you sign in.',
  passkey_added: 'It can now be used to sign in.',
  passkey_removed: 'It can no longer be used to sign in.',
  recovery_codes_regenerated: 'Your previous recovery codes no longer work.',
};

const NOT_YOU = `If this was not you, reset your password at once and review your account's activity.`;

export function securityNoticeMail(p: { type: NoticeEvent; data: Record<string, unknown>; at: number; activityLink: string; resetLink: string }): RenderedMail {
  const title = eventTitle(p.type, p.data);
  return render(`${PRODUCT}: ${title.charAt(0).toLowerCase()}${title.slice(1)}`, [
    `${title} on your ${PRODUCT} account at ${formatTime(p.at)}. ${NOTICE_CONSEQUENCE[p.type]}`,
    NOT_YOU,
    { link: safeLink(p.activityLink), label: 'Review your account activity' },
    { link: safeLink(p.resetLink), label: 'Reset your password' },
  ]);
}

/** to the new address: the link that proves it and makes the change */
export function emailChangeConfirmMail(p: { link: string; newEmail: string; expiresInHours: number }): RenderedMail {
  return render(`Confirm your new ${PRODUCT} email address`, [
    `Someone (hopefully you) asked to use ${p.newEmail} as the email address of a ${PRODUCT} account.`,
    { link: safeLink(p.link), label: 'Confirm this address' },
    `The link works once and expires in ${p.expiresInHours} hours. If you did not ask for it, ignore this message: nothing changes.`,
  ]);
}

/** to the old address, when the change is asked for: the owner learns of a hijack before it completes */
export function emailChangeRequestedMail(p: { newEmail: string; at: number; resetLink: string }): RenderedMail {
  return render(`${PRODUCT}: email change requested`, [
    `At ${formatTime(p.at)} someone signed in to your ${PRODUCT} account asked to change its email address to ${p.newEmail}. The change happens only when the link sent to that address is used.`,
    `If this was not you, someone is signed in to your account: reset your password now, which signs every session out.`,
    { link: safeLink(p.resetLink), label: 'Reset your password' },
  ]);
}

/** to both addresses, once the change is done */
export function emailChangedMail(p: { oldEmail: string; newEmail: string; at: number }): RenderedMail {
  return render(`${PRODUCT}: email address changed`, [
    `The email address of your ${PRODUCT} account was changed from ${p.oldEmail} to ${p.newEmail} at ${formatTime(p.at)}. Sign in with the new address from now on; your other sessions were signed out.`,
    `If this was not you, contact your administrator at once.`,
  ]);
}

export function accountDeletedMail(p: { at: number; byAdmin: boolean }): RenderedMail {
  return render(`${PRODUCT}: account deleted`, [
    `Your ${PRODUCT} account was deleted at ${formatTime(p.at)}${p.byAdmin ? ' by an administrator' : ''}. Every session was signed out and your personal data erased; this address can be used to sign up again.`,
    `If you did not ask for this, contact your administrator.`,
  ]);
}

/** an account created by an administrator: the person chooses their own password */
export function setPasswordMail(p: { link: string; expiresInHours: number }): RenderedMail {
  return render(`Your ${PRODUCT} account is ready`, [
    `An administrator created a ${PRODUCT} account for this address. Choose a password to start using it.`,
    { link: safeLink(p.link), label: 'Choose your password' },
    `The link works once and expires in ${p.expiresInHours} hours.`,
  ]);
}
