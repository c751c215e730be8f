import type { Server } from 'node:http'

import type { FastifyHttpOptions } from 'fastify'

import type { Config } from '../config/config.ts'
import { writeClientError } from './client-errors.ts'

/** What the listening server takes from the configuration (config.ts states the defaults and why). */
export type HttpServerConfig = Pick<
  Config,
  'trustProxy' | 'httpRequestTimeoutMs' | 'httpHeadersTimeoutMs' | 'httpKeepAliveTimeoutMs' | 'httpConnectionTimeoutMs'
>

type ServerOptions = Pick<
  FastifyHttpOptions<Server>,
  'trustProxy' | 'requestTimeout' | 'keepAliveTimeout' | 'connectionTimeout' | 'http' | 'clientErrorHandler'
>

/**
 * Fastify's server options for these settings, and the answer to requests Node cannot parse. A
 * setting left out keeps Fastify's own default (tests that only `inject` build the app without them).
 */
export function httpServerOptions(c: Partial<HttpServerConfig>): ServerOptions {
  // a request Node cannot parse, or that times out, is answered with a problem too
  const options: ServerOptions = { clientErrorHandler: writeClientError }
  if (c.trustProxy !== undefined) {
    const trust = c.trustProxy
    // Fastify 5 trusts no one for a plain number: a hop count cannot tell the proxy from a client
    // that reached the port directly and wrote its own X-Forwarded-For. It is still what an
    // operator means when the port is reachable only through N proxies (Express's semantics):
    // believe the N nearest hops, the socket's peer being hop 0.
    options.trustProxy =
      typeof trust === 'number'
        ? (_address: string, hop: number) => hop < trust
        : typeof trust === 'boolean'
          ? trust
          : [...trust]
  }
  if (c.httpKeepAliveTimeoutMs !== undefined) options.keepAliveTimeout = c.httpKeepAliveTimeoutMs
  if (c.httpConnectionTimeoutMs !== undefined) options.connectionTimeout = c.httpConnectionTimeoutMs
  if (c.httpRequestTimeoutMs !== undefined && c.httpHeadersTimeoutMs !== undefined) {
    options.requestTimeout = c.httpRequestTimeoutMs
    const bounds = [c.httpRequestTimeoutMs, c.httpHeadersTimeoutMs].filter((ms) => ms > 0)
    options.http = {
      requestTimeout: c.httpRequestTimeoutMs,
      headersTimeout: c.httpHeadersTimeoutMs,
      // Node checks these two bounds on a timer (every 30 s by default), so a request could
      // overstay its bound by that much; a tenth of the shortest bound keeps the overstay small,
      // for the price of one walk over the open connections per tick.
      ...(bounds.length > 0 ? { connectionsCheckingInterval: Math.max(50, Math.round(Math.min(...bounds) / 10)) } : {}),
    }
  }
  return options
}
