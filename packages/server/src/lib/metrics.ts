/**
 * The Prometheus registry of one node and the collectors an operator needs: requests by route and status,
 * latency, logins by outcome, refresh-token reuse, revocations, rate-limit hits, risk verdicts, dependency
 * up/down and outage seconds, event-loop delay (with Node's default process metrics), and how far each
 * connected revocation-stream subscriber is behind the feed head. One registry per Tessera instance, so
 * several in one process (tests) never share counters.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DependencyMonitor, DependencyName } from '../lib/dependencies.js';

const LOGIN_ROUTES = new Set(['/v1/login', '/v1/login/mfa', '/v1/login/passkey']);
const RISK_EVENTS = new Set(['impossible_travel', 'session_anomaly', 'new_country', 'new_device']);
const REVOCATION_EVENTS = new Set(['logout', 'session_revoked', 'sessions_revoked', 'refresh_token_reused']);

/** How far one revocation stream is behind the feed head it knows of, read at scrape time. */
export interface FeedLag {
  /** feed items (cursor positions) known to exist but not yet written to this stream */
  items: number;
  /** seconds since this stream first knew of its oldest undelivered item (0 when caught up) */
  seconds: number;
}

export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'tessera_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [this.registry] });
  readonly latency = new Histogram({ name: 'tessera_http_request_duration_seconds', help: 'HTTP request latency by route', labelNames: ['method', 'route'], registers: [this.registry], buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
  readonly logins = new Counter({ name: 'tessera_logins_total', help: 'sign-in attempts by outcome (succeeded, failed, mfa_failed, rate_limited, unavailable)', labelNames: ['outcome'], registers: [this.registry] });
  readonly refreshReuse = new Counter({ name: 'tessera_refresh_token_reuse_total', help: 'rotated refresh tokens presented again (the session was revoked)', registers: [this.registry] });
  readonly revocations = new Counter({ name: 'tessera_revocations_total', help: 'sessions revoked, by cause', labelNames: ['cause'], registers: [this.registry] });
  readonly rateLimited = new Counter({ name: 'tessera_rate_limit_hits_total', help: 'requests refused with 429, by route', labelNames: ['route'], registers: [this.registry] });
  readonly riskVerdicts = new Counter({ name: 'tessera_risk_verdicts_total', help: 'risk-engine findings by kind', labelNames: ['kind'], registers: [this.registry] });
  readonly unavailable = new Counter({ name: 'tessera_unavailable_responses_total', help: 'requests answered 503 because a dependency was down', registers: [this.registry] });
  readonly dependencyUp = new Gauge({ name: 'tessera_dependency_up', help: '1 when the dependency answers its probe, 0 during an outage', labelNames: ['dependency'], registers: [this.registry] });
  readonly outageSeconds = new Counter({ name: 'tessera_dependency_outage_seconds_total', help: 'seconds of ended outages, per dependency', labelNames: ['dependency'], registers: [this.registry] });
  readonly outages = new Counter({ name: 'tessera_dependency_outages_total', help: 'outages begun, per dependency', labelNames: ['dependency'], registers: [this.registry] });
  /** connected streams by client id: only authenticated resource-server clients, so cardinality is bounded */
  readonly #feedStreams = new Map<string, Set<() => FeedLag>>();
  readonly feedLagItems: Gauge = new Gauge({
    name: 'tessera_feed_subscriber_lag_items',
    help: 'revocation feed items not yet delivered to a connected stream subscriber (worst stream of the client)',
    labelNames: ['client'],
    registers: [this.registry],
    collect: () => this.#collectLag(this.feedLagItems, 'items'),
  });
  readonly feedLagSeconds: Gauge = new Gauge({
    name: 'tessera_feed_subscriber_lag_seconds',
    help: 'seconds the oldest undelivered revocation has waited for a connected stream subscriber (worst stream of the client)',
    labelNames: ['client'],
    registers: [this.registry],
    collect: () => this.#collectLag(this.feedLagSeconds, 'seconds'),
  });

  constructor() {
    // process CPU, memory, GC, handles and nodejs_eventloop_lag_* (event-loop delay, sampled by perf_hooks)
    collectDefaultMetrics({ register: this.registry, prefix: 'tessera_', eventLoopMonitoringPrecision: 20 });
  }

  /** Follows a dependency monitor: up/down gauge, outages begun, and outage seconds once each one ends. */
  watch(monitor: DependencyMonitor, names: DependencyName[]): void {
    for (const name of names) this.dependencyUp.set({ dependency: name }, monitor.up(name) ? 1 : 0);
    monitor.onChange((name, up, outageMs) => {
      this.dependencyUp.set({ dependency: name }, up ? 1 : 0);
      if (up) this.outageSeconds.inc({ dependency: name }, outageMs / 1000);
      else this.outages.inc({ dependency: name });
    });
  }

  /**
   * A revocation stream of `client` connected; `probe` says how far behind it is. The series exist while the
   * client has a stream on this node and are removed with its last one (the returned function).
   */
  feedSubscriber(client: string, probe: () => FeedLag): () => void {
    let streams = this.#feedStreams.get(client);
    if (!streams) this.#feedStreams.set(client, (streams = new Set()));
    streams.add(probe);
    return () => {
      streams.delete(probe);
      // the gauges are rebuilt at every scrape, so a client without streams has no series
      if (streams.size === 0 && this.#feedStreams.get(client) === streams) this.#feedStreams.delete(client);
    };
  }

  /** One lag gauge, computed when scraped: the worst of each client's streams on this node. */
  #collectLag(gauge: Gauge, key: keyof FeedLag): void {
    gauge.reset();
    for (const [client, streams] of this.#feedStreams) {
      let worst = 0;
      for (const probe of streams) worst = Math.max(worst, probe()[key]);
      gauge.set({ client }, worst);
    }
  }

  /**
   * The password hashes running and waiting on this node, read at scrape time: waiting hashes that stay above
   * zero mean sign-ins are queuing for the cores (add cores or nodes), not failing.
   */
  watchHashing(load: () => { active: number; waiting: number }): void {
    const registry = this.registry;
    const gauge = (name: string, help: string, read: () => number): Gauge =>
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(read());
        },
      });
    gauge('tessera_password_hashes_running', 'argon2 hashes running now (at most one per core)', () => load().active);
    gauge('tessera_password_hashes_waiting', 'argon2 hashes queued for a core', () => load().waiting);
  }

  /** Security events as they are recorded: sign-in outcomes, reuse, revocations, risk findings. */
  observeEvent(type: string): void {
    if (type === 'login_succeeded') this.logins.inc({ outcome: 'succeeded' });
    else if (type === 'login_failed') this.logins.inc({ outcome: 'failed' });
    else if (type === 'mfa_failed') this.logins.inc({ outcome: 'mfa_failed' });
    if (type === 'refresh_token_reused') this.refreshReuse.inc();
    if (REVOCATION_EVENTS.has(type)) this.revocations.inc({ cause: type });
    if (RISK_EVENTS.has(type)) this.riskVerdicts.inc({ kind: type });
  }

  /** Per-request collectors; the route label is the route pattern, never the raw URL (bounded cardinality). */
  install(app: FastifyInstance): void {
    app.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? 'unmatched';
      const status = reply.statusCode;
      this.requests.inc({ method: request.method, route, status: String(status) });
      this.latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
      if (status === 429) this.rateLimited.inc({ route });
      if (status === 503) this.unavailable.inc();
      if (LOGIN_ROUTES.has(route) && (status === 429 || status === 503)) {
        this.logins.inc({ outcome: status === 429 ? 'rate_limited' : 'unavailable' });
      }
      done();
    });
  }
}
