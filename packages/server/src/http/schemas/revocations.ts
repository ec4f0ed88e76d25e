import { z } from 'zod';
import { CLIENT, IsoTime, op } from './common.js';

export const SinceQuery = z.strictObject({ since: z.string().regex(/^-?\d{1,15}$/).optional().describe('the cursor to read after (0 or absent: from the start)') });

const Item = z.object({
  cursor: z.number().int(),
  sid: z.string().optional().describe('a revoked session'),
  sub: z.string().optional().describe('a user all of whose tokens are revoked'),
  revoked_at: IsoTime,
  until: IsoTime.describe('after this no token it covers can still be alive'),
});

export const feedSchema = op({
  summary: 'Revocations after a cursor (resource servers)',
  tags: ['resource servers'],
  security: CLIENT,
  querystring: SinceQuery,
  response: { 200: z.object({ cursor: z.number().int().describe('read on from here'), items: z.array(Item) }).describe('A page of the feed') },
  errors: ['invalid_client'],
});

export const streamSchema = op({
  summary: 'The revocation feed as server-sent events (resource servers)',
  description:
    'Events `revocation` (`id:` the cursor, `data:` one item as in `GET /v1/revocations`) and `heartbeat` every 5 s (`data: {"cursor": …}`). Reconnect with `Last-Event-ID` or `?since=`.',
  tags: ['resource servers'],
  security: CLIENT,
  querystring: SinceQuery,
  response: { 200: { description: 'An event stream', content: { 'text/event-stream': { schema: z.string() } } } },
  errors: ['invalid_client'],
});
