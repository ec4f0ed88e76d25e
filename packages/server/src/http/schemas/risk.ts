import { z } from 'zod';
import { CLIENT, OneOf, op } from './common.js';

export const ReportBody = z.strictObject({
  sid: z.string().min(1).max(64).describe('the session id (`sid` claim) of the token seen'),
  ip: z.string().min(2).max(64).describe('the IP address the token was used from'),
  user_agent: z.string().max(512).nullable().optional(),
});

export const reportSchema = op({
  summary: 'Report a token seen from a suspicious place or device (resource servers)',
  tags: ['resource servers'],
  security: CLIENT,
  body: ReportBody,
  response: {
    200: z
      .object({
        action: OneOf('allow', 'alert', 'block'),
        event: OneOf('impossible_travel', 'session_anomaly', 'new_country', 'new_device').optional().describe('with `alert` and `block`'),
        session: OneOf('unknown').optional().describe('the session is not known'),
      })
      .describe("The server's verdict"),
  },
  errors: ['invalid_client'],
});
