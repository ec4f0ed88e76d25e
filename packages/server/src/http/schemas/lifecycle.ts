import { z } from 'zod';
import { AUTH_READ_ERRORS, AUTH_WRITE_ERRORS, Email, IsoTime, NoContent, USER_READ, USER_WRITE, op } from './common.js';

export const EmailChangeBody = z.strictObject({ new_email: Email });
export const EmailConfirmBody = z.strictObject({ token: z.string().min(1).max(512) });

export const emailChangeSchema = op({
  summary: 'Ask to change the email (recent sign-in required): a confirmation link to the new address, a notice to the old one',
  description: 'The same 202 whether or not the new address is taken; a taken one fails at confirmation with 409 `email_taken`.',
  tags: ['account'],
  security: USER_WRITE,
  body: EmailChangeBody,
  response: { 202: z.object({ status: z.literal('accepted'), detail: z.string() }).describe('The confirmation link is on its way') },
  errors: [...AUTH_WRITE_ERRORS, 'reauthentication_required', 'forbidden'],
});

export const emailConfirmSchema = op({
  summary: 'Confirm a change of email with the mailed link: the email is replaced and the other sessions are signed out',
  description: 'Signed in while confirming (the access token or cookie of the same user), that session is kept; every other one is revoked.',
  tags: ['account'],
  body: EmailConfirmBody,
  response: { 204: NoContent('The email is changed') },
  errors: ['invalid_grant', 'email_taken'],
});

export const deleteMeSchema = op({
  summary: 'Delete the account (recent sign-in required): sessions revoked through the feed, factors, grants and personal data erased',
  tags: ['account'],
  security: USER_WRITE,
  response: { 204: NoContent('The account is deleted') },
  errors: [...AUTH_WRITE_ERRORS, 'reauthentication_required'],
});

const Row = z.record(z.string(), z.unknown());

export const exportSchema = op({
  summary: 'Everything held about the signed-in user, as one JSON attachment (no secret or hash)',
  tags: ['account'],
  security: USER_READ,
  response: {
    200: z
      .object({
        profile: z.object({ id: z.string(), email: z.string(), email_verified: z.boolean(), roles: z.array(z.string()), created_at: IsoTime }),
        sessions: z.array(Row).describe('every session, ended ones too'),
        events: z.array(Row).describe('the security events, newest first'),
        factors: Row.describe('second factors: whether each is set up, passkey names and dates, never a secret'),
        apps: z.array(Row).describe('apps the user granted access (OpenID Connect consents)'),
      })
      .describe('The account export'),
  },
  errors: AUTH_READ_ERRORS,
});
