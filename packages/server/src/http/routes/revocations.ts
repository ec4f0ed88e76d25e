import type { FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { FeedTail } from '../../core/feed-tail.js';
import type { FeedLag } from '../../lib/metrics.js';
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
 * How far one stream is behind the newest head it knows of (the tail's reads and its own heartbeats), for
 * the per-subscriber lag gauges: items not yet written, and how long the oldest of them has waited.
 */
class StreamLag {
  #head = 0;
  #behindSince: number | undefined;
  cursor: number;

  constructor(from: number) {
    this.cursor = from;
  }

  knows(head: number): void {
    this.#head = Math.max(this.#head, head);
    if (this.#head > this.cursor) this.#behindSince ??= Date.now();
  }

  delivered(cursor: number): void {
    this.cursor = cursor;
    if (cursor >= this.#head) this.#behindSince = undefined;
  }

  readonly probe = (): FeedLag => ({
    items: Math.max(0, this.#head - this.cursor),
    seconds: this.#behindSince === undefined ? 0 : (Date.now() - this.#behindSince) / 1000,
  });
}

/**
 * One subscriber's stream. Everything it delivers is read from the database feed, in cursor order, from
 * this subscriber's own cursor: a wake-up (pub/sub or the poll) only says "read again", so a lost, foreign
 * or forged message can never make it skip an item or deliver one that is not in this deployment's feed.
 */
function openStream(t: TesseraServices, tail: FeedTail, request: FastifyRequest, res: ServerResponse, stream: { from: number; client: string }): void {
  const lag = new StreamLag(stream.from);
  let closed = false;
  let reading = false;
  let again = false;
  let failed = false;
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
          const page = await t.feed.since(lag.cursor, 500);
          for (const item of page.items) {
            if (item.cursor <= lag.cursor) continue;
            write(`event: revocation\nid: ${item.cursor}\ndata: ${JSON.stringify(item)}\n\n`);
            lag.delivered(item.cursor);
          }
          if (closed || page.cursor <= lag.cursor) break;
          lag.delivered(page.cursor);
        }
      } while (again && !closed);
      failed = false;
    } catch (err) {
      failed = true;
      // The next wake-up or heartbeat retries; meanwhile heartbeats show the subscriber it is behind.
      request.log.warn({ err }, 'revocation stream read failed');
    } finally {
      reading = false;
    }
  };
  // The heartbeat carries the database head, read now: a subscriber whose cursor is behind it catches up
  // with `?since=`. When the head cannot be read there is no heartbeat, and the subscriber goes stale.
  const heartbeat = async (): Promise<void> => {
    const head = await tail.peekHead().catch(() => undefined);
    if (head === undefined) return;
    lag.knows(head);
    // an item read after the head (this stream is ahead of the read) must not look like a reset feed
    write(`event: heartbeat\ndata: ${JSON.stringify({ cursor: String(Math.max(head, lag.cursor)) })}\n\n`);
    // a read that failed is retried here, not only when the head moves again
    if (failed && head > lag.cursor) void pump();
  };
  const unwatch = tail.watch(() => {
    lag.knows(tail.head);
    void pump();
  });
  const unmeter = t.metrics.feedSubscriber(stream.client, lag.probe);
  const timer = setInterval(() => void heartbeat(), tail.heartbeatMs);
  timer.unref();
  request.raw.on('close', () => {
    closed = true;
    clearInterval(timer);
    unwatch();
    unmeter();
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
    const client = await authenticateClient(t, request);
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
    openStream(t, tail, request, reply.raw, { from, client: client.id });
  });
}
