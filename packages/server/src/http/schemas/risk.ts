import { z } from 'zod';
import { CLIENT, op } from './common.js';

export const ReportBody = z.strictObject({
  token: z.string().min(1).max(8192).describe('the access token the resource server saw (its audience must be this client\'s)'),
  ip: z.string().min(2).max(45).describe('the IP address the token was used from'),
  user_agent: z.string().max(512).nullable().optional(),
});

export const reportSchema = op({
  summary: 'Report a token seen used from an impossible place (resource servers)',
  tags: ['resource servers'],
  security: CLIENT,
  body: ReportBody,
  response: {
    202: z.object({ status: z.literal('received') }).describe('The same answer for every accepted report'),
  },
  errors: ['invalid_request', 'invalid_client', 'invalid_token', 'rate_limited'],
});
