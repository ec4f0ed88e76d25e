/**
 * Is this error a dependency being unreachable (PostgreSQL, MySQL/MariaDB, Redis, the network) rather than a
 * bug? Those answer 503 `service_unavailable` with Retry-After instead of a bland 500, so clients and load
 * balancers back off and retry, and the node recovers by itself once the dependency is back.
 * Dialect files may add their own checks; this one knows the drivers' connection-class errors.
 */

/** Node socket errors: refused, reset, timed out, unreachable, name resolution failed. */
const NET_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH',
  'ENETDOWN', 'ENOTFOUND', 'EAI_AGAIN', 'ENOTCONN', 'ESHUTDOWN',
]);

/**
 * PostgreSQL SQLSTATEs: class 08 (connection exception), 57P01–57P03 (admin/crash shutdown, cannot connect
 * now), 53300 (too many connections), 40001/40P01 are NOT here: a serialisation failure is retried by the store.
 */
const PG_STATES = /^(08\d{3}|57P0[1-3]|53300)$/;

/** mysql2 connection-class codes. */
const MYSQL_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN',
  'ER_NORMAL_SHUTDOWN', 'ER_SHUTDOWN_COMPLETE', 'ER_CONNECTION_KILLED', 'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_QUIT', 'CR_CONNECTION_ERROR', 'CR_CONN_HOST_ERROR', 'CR_SERVER_GONE_ERROR', 'CR_SERVER_LOST',
]);

/** Messages of driver errors that carry no code (pg pool, ioredis, rate-limiter-flexible). */
const MESSAGES = [
  /^Connection terminated/, // pg: server closed the socket, or connect timeout
  /timeout exceeded when trying to connect/, // pg pool
  /Client has encountered a connection error and is not queryable/, // pg
  /^Connection is closed\.?$/, // ioredis
  /Stream isn't writeable and enableOfflineQueue options is false/, // ioredis without offline queue
  /Reached the max retries per request limit/, // ioredis MaxRetriesPerRequestError
  /^Redis connection is not ready$/, // rate-limiter-flexible rejectIfRedisNotReady
  /^connect ECONNREFUSED/,
];

const DRIVER_NAMES = new Set(['MaxRetriesPerRequestError', 'ConnectionTimeoutError']);

/**
 * A part of this node itself that cannot serve now (e.g. lib/argon2-pool.ts when no worker thread can run a
 * hash): no bug in the request, so the same 503 with Retry-After as a dependency down, and a client retries.
 */
export class LocalUnavailableError extends Error {}

function one(err: object): boolean {
  if (err instanceof LocalUnavailableError) return true;
  const e = err as { code?: unknown; errno?: unknown; name?: unknown; message?: unknown; fatal?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code !== undefined && (NET_CODES.has(code) || PG_STATES.test(code) || MYSQL_CODES.has(code))) return true;
  if (typeof e.name === 'string' && DRIVER_NAMES.has(e.name)) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return MESSAGES.some((re) => re.test(message));
}

/** Walks `cause` chains and AggregateError members (a connect to several addresses fails as one aggregate). */
export function isUnavailable(err: unknown, depth = 0): boolean {
  if (err === null || typeof err !== 'object' || depth > 5) return false;
  if (one(err)) return true;
  if (err instanceof AggregateError && err.errors.some((e) => isUnavailable(e, depth + 1))) return true;
  return isUnavailable((err as { cause?: unknown }).cause, depth + 1);
}

/** Seconds a client should wait before retrying while a dependency is down. */
export const UNAVAILABLE_RETRY_AFTER_SEC = 2;
