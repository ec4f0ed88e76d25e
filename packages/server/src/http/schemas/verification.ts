import { z } from 'zod';
import { Email, NoContent, op } from './common.js';

export const verifyEmailSchema = op({
  summary: 'Confirm the email address with the mailed link',
  description: 'Redeems the token of `{issuer}/verify-email?token=…` (single use, 24 hours); the account may then sign in and set up second factors.',
  tags: ['accounts'],
  body: z.strictObject({ token: z.string().min(1).max(512).describe('the token of the mailed link') }),
  response: { 204: NoContent('The email address is confirmed') },
  errors: ['invalid_grant', 'rate_limited'],
});

export const resendVerificationSchema = op({
  summary: 'Mail a new verification link',
  description: 'The same 202 whether or not the address has an unconfirmed account; at most a few mails per account per hour.',
  tags: ['accounts'],
  body: z.strictObject({ email: Email }),
  response: { 202: z.object({ status: z.literal('accepted') }).describe('If the address has an unconfirmed account, a link is on its way') },
  errors: ['rate_limited'],
});
