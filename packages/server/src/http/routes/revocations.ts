import type { RevocationItem } from '../../core/revocations.js';
import type { TesseraServices } from '../../tessera.js';
import type { ZodApp } from '../schemas/common.js';
import { feedSchema, streamSchema } from '../schemas/revocations.js';
import { authenticateClient } from './oauth.js';

const HEARTBEAT_MS = 5000;

/** The feed resource servers follow (client credentials required): a cursor page, and the same as SSE. */
export function revocationRoutes(app: ZodApp, t: TesseraServices): void {
  app.get('/v1/revocations', { schema: feedSchema }, async (request, reply) => {
    await authenticateClient(t, request);
    const { since } = request.query;
    return reply.header('Cache-Control', 'no-store').send(await t.feed.since(since ? Number(since) : 0));
  });

  app.get('/v1/revocations/stream', { schema: streamSchema }, async (request, reply) => {
    await authenticateClient(t, request);
    const { since } = request.query;
    const lastEventId = request.headers['last-event-id'];
    let cursor = Number(typeof lastEventId === 'string' && /^\d+$/.test(lastEventId) ? lastEventId : (since ?? 0));

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    const send = (item: RevocationItem) => {
      if (item.cursor <= cursor) return; // already delivered (catch-up and live push can overlap)
      cursor = item.cursor;
      res.write(`event: revocation\nid: ${item.cursor}\ndata: ${JSON.stringify(item)}\n\n`);
    };
    // Subscribe before the catch-up read, so nothing revoked in between is missed.
    const pending: RevocationItem[] = [];
    let caughtUp = false;
    const unsubscribe = await t.feed.subscribe((item) => {
      if (caughtUp) send(item);
      else pending.push(item);
    });
    const heartbeat = setInterval(() => res.write(`event: heartbeat\ndata: ${JSON.stringify({ cursor })}\n\n`), HEARTBEAT_MS);
    heartbeat.unref();
    const close = () => {
      clearInterval(heartbeat);
      void unsubscribe();
    };
    request.raw.on('close', close);
    try {
      for (;;) {
        const before = cursor;
        const page = await t.feed.since(cursor, 1000);
        for (const item of page.items) send(item);
        if (page.cursor <= before) break;
        cursor = Math.max(cursor, page.cursor);
      }
      caughtUp = true;
      for (const item of pending) send(item);
      res.write(`event: heartbeat\ndata: ${JSON.stringify({ cursor })}\n\n`);
    } catch (err) {
      request.log.error({ err }, 'revocation stream catch-up failed');
      close();
      res.end();
    }
  });
}
