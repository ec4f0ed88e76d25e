import { z } from 'zod';
import { eventToJson } from '../../core/events.js';
import type { EventRow } from '../../store/ports/index.js';
import { AUTH_READ_ERRORS, AUTH_WRITE_ERRORS, Email, EventPage, IsoTime, NoContent, Password, USER_READ, USER_WRITE, op } from './common.js';

export const Session = z.object({
  id: z.string(),
  current: z.boolean().describe('the session of this request'),
  created_at: IsoTime,
  last_seen_at: IsoTime,
  ip: z.string().nullable(),
  location: z.object({ city: z.string().nullable(), country: z.string().nullable() }),
  user_agent: z.string().nullable(),
  amr: z.array(z.string()).describe('authentication methods (RFC 8176): `pwd`, `otp`, `hwk`, `swk`, `mfa`, …'),
  transport: z.enum(['bearer', 'cookie']),
  dpop_bound: z.boolean().describe('the session is sender-constrained (DPoP)'),
});

export const SecurityEvent = z.object({
  id: z.number().int(),
  type: z.string().describe('e.g. `login_succeeded`, `login_failed`, `session_revoked`, `impossible_travel`'),
  title: z.string().describe('what happened, in words a person understands (the wording of the activity page and the security mails)'),
  user_id: z.string().nullable(),
  session_id: z.string().nullable(),
  ip: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  created_at: IsoTime,
});

export type SessionJson = z.output<typeof Session>;

/** core/events.ts's eventToJson is typed as a plain record: checked here against the documented shape. */
export const eventJson = (e: EventRow): z.output<typeof SecurityEvent> => SecurityEvent.parse(eventToJson(e));

export const Me = z.object({
  id: z.string(),
  email: z.string(),
  email_verified: z.boolean().describe('the owner has proven the mailbox (verification link or password reset)'),
  roles: z.array(z.string()).describe('`["admin"]` for administrators, else empty'),
  mfa: z.object({
    totp: z.boolean(),
    webauthn: z.boolean(),
    passkeys: z.number().int().describe('how many passkeys'),
    sms: z.string().nullable().describe('the masked phone number, or null'),
    recovery_codes_left: z.number().int(),
  }),
  created_at: IsoTime,
});

export const ChangeBody = z.strictObject({ current_password: Password, new_password: Password });
export const ForgotBody = z.strictObject({ email: Email });
export const ResetBody = z.strictObject({ token: z.string().min(1).max(512), new_password: Password });
export const SessionParams = z.strictObject({ id: z.string().min(1).max(64) });
export const KeepQuery = z.strictObject({ keep: z.enum(['current']).optional().describe('`current`: keep the session of this request') });
export const EventsQuery = z.strictObject(EventPage);

export const meSchema = op({
  summary: 'The signed-in user',
  tags: ['account'],
  security: USER_READ,
  response: { 200: Me.describe('The user, with a summary of the second factors') },
  errors: AUTH_READ_ERRORS,
});

export const sessionsSchema = op({
  summary: "List the user's live sessions",
  tags: ['account'],
  security: USER_READ,
  response: { 200: z.array(Session).describe('Live sessions, the current one marked') },
  errors: AUTH_READ_ERRORS,
});

export const revokeSessionSchema = op({
  summary: 'Sign one session out',
  description: "Another user's session id answers 404, exactly like an unknown one.",
  tags: ['account'],
  security: USER_WRITE,
  params: SessionParams,
  response: { 204: NoContent('The session is revoked') },
  errors: [...AUTH_WRITE_ERRORS, 'not_found'],
});

export const revokeSessionsSchema = op({
  summary: 'Sign every session out (`?keep=current` keeps this one)',
  tags: ['account'],
  security: USER_WRITE,
  querystring: KeepQuery,
  response: { 204: NoContent('The sessions are revoked') },
  errors: AUTH_WRITE_ERRORS,
});

export const eventsSchema = op({
  summary: "The user's own security events, newest first",
  tags: ['account'],
  security: USER_READ,
  querystring: EventsQuery,
  response: { 200: z.array(SecurityEvent).describe('Security events') },
  errors: AUTH_READ_ERRORS,
});

export const changePasswordSchema = op({
  summary: 'Change the password (recent sign-in required); other sessions are signed out',
  tags: ['password'],
  security: USER_WRITE,
  body: ChangeBody,
  response: { 204: NoContent('The password is changed') },
  errors: [...AUTH_WRITE_ERRORS, 'reauthentication_required', 'invalid_credentials', 'weak_password'],
});

export const forgotPasswordSchema = op({
  summary: 'Mail a password-reset link',
  description: 'Answers at once with the same body whether or not the account exists; the work runs after the response.',
  tags: ['password'],
  body: ForgotBody,
  response: { 202: z.object({ status: z.literal('accepted'), detail: z.string() }).describe('Accepted') },
  errors: [],
});

export const resetPasswordSchema = op({
  summary: 'Set a new password with a reset link; every session is signed out',
  tags: ['password'],
  body: ResetBody,
  response: { 204: NoContent('The password is reset') },
  errors: ['invalid_grant', 'weak_password'],
});
