import type { FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { FeedTail } from '../../core/feed-tail.js';
import type { TesseraServices } from '../../tessera.js';
import type { ZodApp } from '../schemas/common.js';
import { feedSchema, streamSchema } from '../schemas/revocations.js';
import { authenticateClient } from './oauth.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** this node's feed tail (tests tune its poll and heartbeat intervals) */
    revocationTail: FeedTail;
  }
}

/** The subscriber's own cursor: `Last-Event-ID` (an SSE reconnect) over `?since=`, else the start. */
function startCursor(request: FastifyRequest): number {
  const lastEventId = request.headers['last-event-id'];
  const { since } = request.query as { since?: string };
  const n = Number(typeof lastEventId === 'string' && /^\d{1,15}$/.test(lastEventId) ? lastEventId : (since ?? 0));
  return Math.max(n, 0);
}

/**
 * One subscriber's stream. Everything it delivers is read from the database feed, in cursor order, from
 * this subscriber's own cursor: a wake-up (pub/sub or the poll) only says "read again", so a lost, foreign
 * or forged message can never make it skip an item or deliver one that is not in this deployment's feed.
 */
function openStream(t: TesseraServices, tail: FeedTail, request: FastifyRequest, res: ServerResponse, from: number): void {
  let cursor = from;
  let closed = false;
  let reading = false;
  let again = false;
  const write = (chunk: string) => {
    if (!closed) res.write(chunk);
  };
  const pump = async (): Promise<void> => {
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    try {
      do {
        again = false;
        for (;;) {
          const page = await t.feed.since(cursor, 500);
          for (const item of page.items) {
            if (item.cursor <= cursor) continue;
            cursor = item.cursor;
            write(`event: revocation\nid: ${item.cursor}\ndata: ${JSON.stringify(item)}\n\n`);
          }
          if (closed || page.cursor <= cursor) break;
          cursor = page.cursor;
        }
      } while (again && !closed);
    } catch (err) {
      // The next wake-up or poll retries; meanwhile heartbeats show the subscriber it is behind.
      request.log.warn({ err }, 'revocation stream read failed');
    } finally {
      reading = false;
    }
  };
  // The heartbeat carries the database head, read now: a subscriber whose cursor is behind it catches up
  // with `?since=`. When the head cannot be read there is no heartbeat, and the subscriber goes stale.
  const heartbeat = async (): Promise<void> => {
    const head = await tail.peekHead().catch(() => undefined);
    // an item read after the head (this stream is ahead of the read) must not look like a reset feed
    if (head !== undefined) write(`event: heartbeat\ndata: ${JSON.stringify({ cursor: String(Math.max(head, cursor)) })}\n\n`);
  };
  const unwatch = tail.watch(() => void pump());
  const timer = setInterval(() => void heartbeat(), tail.heartbeatMs);
  timer.unref();
  request.raw.on('close', () => {
    closed = true;
    clearInterval(timer);
    unwatch();
  });
  void pump().then(heartbeat);
}

/** The feed resource servers follow (client credentials required): a cursor page, and the same as SSE. */
export function revocationRoutes(app: ZodApp, t: TesseraServices): void {
  const tail = t.openFeedTail({ onError: (err) => app.log.warn({ err }, 'revocation feed wake-up failed') });
  app.decorate('revocationTail', tail);
  app.addHook('onClose', async () => tail.close());

  app.get('/v1/revocations', { schema: feedSchema }, async (request, reply) => {
    await authenticateClient(t, request);
    const { since } = request.query;
    return reply.header('Cache-Control', 'no-store').send(await t.feed.since(since ? Number(since) : 0));
  });

  app.get('/v1/revocations/stream', { schema: streamSchema }, async (request, reply) => {
    await authenticateClient(t, request);
    // A cursor past the head comes from a feed since reset (a restored database): read it all again.
    const requested = startCursor(request);
    const from = requested > (await tail.peekHead()) ? 0 : requested;
    reply.hijack();
    reply.raw.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    openStream(t, tail, request, reply.raw, from);
  });
}
