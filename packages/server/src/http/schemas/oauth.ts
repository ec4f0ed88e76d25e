import { z } from 'zod';
import { CLIENT, NoContent, OneOf, op } from './common.js';

export const TokenParamBody = z.strictObject({
  token: z.string().max(8192),
  token_type_hint: z.string().max(50).optional(),
  client_id: z.string().max(200).optional(),
});

const FORM = ['application/json', 'application/x-www-form-urlencoded'];

export const revokeSchema = op({
  summary: 'Revoke a refresh or access token (RFC 7009)',
  description: 'Always 200, whether the token was valid, unknown or already revoked. Revoking either token signs its session out.',
  tags: ['oauth'],
  consumes: FORM,
  body: TokenParamBody,
  response: { 200: NoContent('Done (or there was nothing to revoke)') },
  errors: [],
});

export const introspectSchema = op({
  summary: 'Introspect a token (RFC 7662); resource-server client credentials required',
  tags: ['oauth'],
  consumes: FORM,
  security: CLIENT,
  body: TokenParamBody,
  response: {
    200: z
      .looseObject({
        active: z.boolean(),
        token_type: OneOf('Bearer', 'DPoP', 'refresh_token').optional(),
        sub: z.string().optional(),
        sid: z.string().optional(),
        exp: z.number().int().optional(),
        iss: z.string().optional(),
        client_id: z.string().optional().describe('the client that asked'),
      })
      .describe('`{active: false}`, or the claims of a live token'),
  },
  errors: ['invalid_client'],
});
