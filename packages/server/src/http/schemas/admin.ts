import { z } from 'zod';
import type { ErrorCode } from '../../core/errors.js';
import { SecurityEvent, Session } from './account.js';
import { AUTH_READ_ERRORS, AUTH_WRITE_ERRORS, Email, EventPage, IsoTime, NoContent, USER_READ, USER_WRITE, op } from './common.js';

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
        email_verified: z.boolean(),
        disabled: z.boolean(),
        roles: z.array(z.string()),
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

export const AdminUserItem = z.object({
  id: z.string(),
  email: z.string(),
  email_verified: z.boolean(),
  created_at: IsoTime,
  last_sign_in_at: IsoTime.nullable(),
  mfa: z.boolean().describe('a second factor is set up'),
  disabled: z.boolean(),
  password_reset_required: z.boolean(),
  admin: z.boolean(),
});

export const AdminUsersQuery = z.strictObject({
  query: z.string().max(320).optional().describe('an email prefix, or an exact user id'),
  limit: z.string().regex(/^\d{1,3}$/).optional().describe('page size (1–200, default 50)'),
  cursor: z.string().max(200).regex(/^[A-Za-z0-9_-]+$/).optional().describe('`next_cursor` of the previous page'),
});

export const adminUsersSchema = op({
  summary: 'List users, by email prefix or id, a page at a time',
  tags: ['admin'],
  security: USER_READ,
  querystring: AdminUsersQuery,
  response: { 200: z.object({ items: z.array(AdminUserItem), next_cursor: z.string().nullable() }).describe('One page of users') },
  errors: READ,
});

export const AdminCreateBody = z.strictObject({ email: Email, admin: z.boolean().optional() });

export const adminCreateUserSchema = op({
  summary: 'Create a user, who is mailed a link to choose a password',
  tags: ['admin'],
  security: USER_WRITE,
  body: AdminCreateBody,
  response: { 201: AdminUserItem.describe('The new user') },
  errors: [...AUTH_WRITE_ERRORS, 'forbidden', 'email_taken'],
});

export const adminDisableSchema = op({
  summary: 'Disable a user: sessions revoked, sign-in and refresh refused with 403 `account_disabled`',
  tags: ['admin'],
  security: USER_WRITE,
  params: UserParams,
  response: { 204: NoContent('Disabled') },
  errors: WRITE,
});

export const adminEnableSchema = op({
  summary: 'Enable a disabled user again',
  tags: ['admin'],
  security: USER_WRITE,
  params: UserParams,
  response: { 204: NoContent('Enabled') },
  errors: WRITE,
});

export const adminDeleteUserSchema = op({
  summary: 'Delete a user, as `DELETE /v1/me` does',
  tags: ['admin'],
  security: USER_WRITE,
  params: UserParams,
  response: { 204: NoContent('Deleted') },
  errors: WRITE,
});
