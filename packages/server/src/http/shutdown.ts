/**
 * Graceful shutdown of `tessera serve` (TESSERA_SHUTDOWN_GRACE): readiness first, so load balancers stop
 * routing here; then the listener stops accepting; revocation streams are ended (their resource servers
 * reconnect to another node at once instead of following a node that is going away); in-flight requests
 * finish; whatever is still open when the grace period ends is force-closed; a hard timer guarantees the
 * exit even if a close hangs.
 */
import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import { problemBody } from './problem.js';

export interface ShutdownOptions {
  /** seconds in-flight requests may take after the signal */
  graceSec: number;
  /** closes everything behind the HTTP server (store, Redis, timers) */
  closeBackend: () => Promise<void>;
  exit: (code: number) => void;
}

export interface Shutdown {
  readonly draining: boolean;
  /** runs the whole sequence once; later calls return the same promise */
  begin(signal: string): Promise<void>;
}

const STREAM_PATH = '/v1/revocations/stream';

export function installShutdown(app: FastifyInstance, opts: ShutdownOptions): Shutdown {
  let draining = false;
  let running: Promise<void> | undefined;
  const streams = new Set<ServerResponse>();

  // Readiness is answered here while draining, before any route: a load balancer sees 503 first.
  // synchronous (no promise per request)
  app.addHook('onRequest', (request, reply, done) => {
    // the matched route's pattern (both paths checked here have no parameters); undefined when none matched
    const path = request.routeOptions.url;
    if (path === STREAM_PATH) {
      streams.add(reply.raw);
      reply.raw.once('close', () => streams.delete(reply.raw));
    }
    if (!draining) return done();
    // keep-alive clients are told to reconnect, which lands them on another node
    void reply.header('Connection', 'close');
    if (path === '/readyz') {
      void reply.code(503).header('Retry-After', '1').type('application/problem+json').send(problemBody('service_unavailable', 'This node is shutting down.', { checks: { draining: 'yes' } }));
      return;
    }
    done();
  });

  const sequence = async (signal: string): Promise<void> => {
    const graceMs = opts.graceSec * 1000;
    const started = Date.now();
    // Hard exit: grace + 1 s at most, whatever hangs.
    const hard = setTimeout(() => {
      app.log.error({ signal }, 'shutdown did not finish in time: exiting');
      opts.exit(0);
    }, graceMs + 900);
    hard.unref();
    draining = true;
    app.log.info({ signal, graceSec: opts.graceSec }, 'draining: readiness is 503, then the listener closes');
    // A short window in which /readyz already says 503 while requests are still accepted.
    await new Promise((r) => setTimeout(r, Math.min(1000, graceMs / 5)));
    const closed = app.close(); // stops accepting; idle keep-alive sockets are closed
    for (const res of streams) endStream(res);
    const force = setTimeout(() => {
      app.log.warn('grace period over: closing the connections still open');
      app.server.closeAllConnections();
    }, Math.max(0, graceMs - (Date.now() - started)));
    force.unref();
    await closed.catch((err: unknown) => app.log.error({ err }, 'closing the HTTP server failed'));
    clearTimeout(force);
    await opts.closeBackend().catch((err: unknown) => app.log.error({ err }, 'closing the backend failed'));
    app.log.info({ ms: Date.now() - started }, 'shut down');
    clearTimeout(hard);
    opts.exit(0);
  };

  return {
    get draining() {
      return draining;
    },
    begin(signal: string) {
      running ??= sequence(signal);
      return running;
    },
  };
}

/** Ends one SSE response and its socket: the subscriber sees the stream end and reconnects elsewhere. */
function endStream(res: ServerResponse): void {
  if (res.writableEnded) return;
  res.end(': this node is shutting down, reconnect\n\n');
  res.socket?.end();
}
