import { z } from 'zod';
import type { ErrorCode } from '../../core/errors.js';
import { SecurityEvent, Session } from './account.js';
import { AUTH_READ_ERRORS, AUTH_WRITE_ERRORS, EventPage, IsoTime, NoContent, USER_READ, USER_WRITE, op } from './common.js';

export const AdminEventsQuery = z.strictObject({
  type: z.string().max(64).optional().describe('only events of this type'),
  user: z.string().max(320).optional().describe("only this user's events (id or email)"),
  ...EventPage,
});
export const UserParams = z.strictObject({ id: z.string().min(1).max(64) });

const READ: ErrorCode[] = [...AUTH_READ_ERRORS, 'forbidden'];
const WRITE: ErrorCode[] = [...AUTH_WRITE_ERRORS, 'forbidden', 'not_found'];

export const adminEventsSchema = op({
  summary: 'Security events of every user, newest first',
  tags: ['admin'],
  security: USER_READ,
  querystring: AdminEventsQuery,
  response: { 200: z.array(SecurityEvent).describe('Security events') },
  errors: READ,
});

export const adminUserSchema = op({
  summary: 'One user, with their live sessions',
  tags: ['admin'],
  security: USER_READ,
  params: UserParams,
  response: {
    200: z
      .object({
        id: z.string(),
        email: z.string(),
        roles: z.array(z.string()),
        email_verified: z.boolean(),
        password_reset_required: z.boolean(),
        created_at: IsoTime,
        sessions: z.array(Session),
      })
      .describe('The user'),
  },
  errors: [...READ, 'not_found'],
});

export const adminRevokeSessionsSchema = op({
  summary: "Sign every one of a user's sessions out",
  tags: ['admin'],
  security: USER_WRITE,
  params: UserParams,
  response: { 204: NoContent('Revoked') },
  errors: WRITE,
});

export const adminRequireResetSchema = op({
  summary: 'Require a password reset before the next sign-in (signs the user out)',
  tags: ['admin'],
  security: USER_WRITE,
  params: UserParams,
  response: { 204: NoContent('Done') },
  errors: WRITE,
});

export const adminUnlockSchema = op({
  summary: "Clear a user's sign-in attempt counters",
  tags: ['admin'],
  security: USER_WRITE,
  params: UserParams,
  response: { 204: NoContent('Unlocked') },
  errors: WRITE,
});
