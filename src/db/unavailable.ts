import { PG } from './pg-errors.ts'

/**
 * Whether `err` means the database could not be reached or did not answer in time, as opposed to a
 * fault in the statement or in our code: the request may succeed if sent again shortly, so the API
 * answers 503 with Retry-After instead of a 500.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  // the driver's error may be wrapped (pg-pool wraps a connect timeout, our code adds causes)
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown }
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || SERVER_STATES.has(code) || code.startsWith('08')))
      return true
    if (typeof message === 'string' && MESSAGES.some((m) => message.startsWith(m))) return true
    if (e instanceof AggregateError && e.errors.some(isDatabaseUnavailable)) return true
  }
  return false
}

/** Node's socket errors when the server or the way to it is gone. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
])

/**
 * SQLSTATEs of a server that will not serve now (class 08, connection exception, is matched by
 * its prefix; PgBouncer reports its own refusals, "no more connections allowed",
 * query_wait_timeout, a server it cannot log in to, as 08P01). Not query_canceled (the statement
 * timeout): that is a statement too slow for a server that does answer, a fault to see at error
 * level as a 500, not a reason to tell every client to come back in 5 s.
 */
const SERVER_STATES = new Set<string>([
  PG.tooManyConnections,
  PG.adminShutdown,
  PG.crashShutdown,
  PG.cannotConnectNow,
  PG.idleSessionTimeout,
])

/** What pg, pg-pool, our BoundedClient, PGlite and Kysely say when no answer can come. */
const MESSAGES = [
  'timeout exceeded when trying to connect', // pg-pool: no connection within DATABASE_CONNECT_TIMEOUT_MS
  'Connection terminated', // pg: the socket closed under a query (also "... due to connection timeout", "... unexpectedly")
  'Query read timeout', // pg with query_timeout: no answer within the statement timeout plus its grace
  'Client has encountered a connection error and is not queryable',
  'PGlite is closed',
  'driver has already been destroyed', // Kysely, after the process has closed its database
]
