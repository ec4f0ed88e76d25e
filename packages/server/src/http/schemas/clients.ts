import { z } from 'zod';
import { AUTH_READ_ERRORS, AUTH_WRITE_ERRORS, IsoTime, NoContent, USER_READ, USER_WRITE, op } from './common.js';

const STEP_UP = ['forbidden', 'reauthentication_required', 'mfa_required'] as const;
const Uri = z.string().min(1).max(2000);

export const ClientType = z.enum(['web', 'spa', 'native', 'service', 'resource']);

export const NewClientBody = z.strictObject({
  name: z.string().min(1).max(200),
  type: ClientType.optional().describe('default `resource` (a resource server, as in v1)'),
  redirect_uris: z.array(Uri).max(20).optional().describe('exact redirect URIs (web, spa, native)'),
  post_logout_redirect_uris: z.array(Uri).max(20).optional(),
  backchannel_logout_uri: Uri.optional(),
  first_party: z.boolean().optional().describe('first-party clients skip the consent page'),
  scope: z.string().max(1000).optional().describe('the scopes the client may be granted (default: openid profile email offline_access for apps)'),
  audience: Uri.optional().describe('resource servers: the RFC 8707 audience URI tokens for it carry'),
});

export const ClientJson = z
  .object({
    client_id: z.string(),
    name: z.string(),
    type: z.string(),
    redirect_uris: z.array(z.string()),
    post_logout_redirect_uris: z.array(z.string()),
    backchannel_logout_uri: z.string().nullable(),
    first_party: z.boolean(),
    scope: z.string(),
    audience: z.string().nullable(),
    created_at: IsoTime,
  })
  .describe('A registered client (never its secret)');

export const listClientsSchema = op({
  summary: 'List registered clients',
  tags: ['admin'],
  security: USER_READ,
  response: { 200: z.array(ClientJson).describe('Every client, oldest first') },
  errors: [...AUTH_READ_ERRORS, ...STEP_UP],
});

export const createClientSchema = op({
  summary: 'Register a client (its secret is shown once)',
  tags: ['admin'],
  security: USER_WRITE,
  body: NewClientBody,
  response: {
    201: z.object({ client_id: z.string(), client_secret: z.string().optional().describe('absent for public clients (spa, native)') }).describe('The client; store the secret now'),
  },
  errors: [...AUTH_WRITE_ERRORS, ...STEP_UP, 'conflict'],
});

export const deleteClientSchema = op({
  summary: 'Delete a client: its credentials no longer authenticate',
  tags: ['admin'],
  security: USER_WRITE,
  params: z.strictObject({ id: z.string().max(200) }),
  response: { 204: NoContent('Deleted') },
  errors: [...AUTH_WRITE_ERRORS, ...STEP_UP, 'not_found'],
});
