import { createHash, timingSafeEqual } from 'node:crypto'

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyRequest } from 'fastify'
import type client from 'prom-client'

import type { Db } from '../db/database.ts'
import { ping } from '../db/ping.ts'
import type { WorkerLiveness } from '../delivery/worker.ts'
import { AppError } from '../lib/errors.ts'
import { bearer } from './auth.plugin.ts'
import { problem, publicProblems } from './route-helpers.ts'

/**
 * How long /readyz waits for the database. Orchestrators time their probes out after a second or
 * a few (Kubernetes: 1 s by default, often raised): a probe that hangs through an outage says
 * nothing, and one that answers 503 promptly takes the process out of the balancer at once.
 */
const READY_TIMEOUT_MS = 2_000

export interface OpsRoutesOptions {
  db: Db
  registry: client.Registry
  /** The delivery worker of this process, when it runs one: /healthz fails while it is stalled. */
  worker?: (() => WorkerLiveness | undefined) | undefined
  /**
   * Who may read /metrics: with a token, whoever sends it as a bearer token; without one, anyone
   * (`open`: the management port, reachable only inside the deployment) or no one (`hidden`: the
   * API's port, where a public /metrics would show the world the service's traffic).
   */
  metrics: { token: string | undefined; withoutToken: 'open' | 'hidden' }
}

const digest = (s: string) => createHash('sha256').update(s).digest()

/** Checks /metrics' caller; comparing digests takes the same time whatever the token's length or content. */
function metricsGuard({ token, withoutToken }: OpsRoutesOptions['metrics']) {
  const expected = token === undefined ? undefined : digest(token)
  return async (request: FastifyRequest) => {
    if (!expected) {
      if (withoutToken === 'open') return
      throw new AppError('not-found', {
        detail:
          'Metrics are not served on this port without METRICS_TOKEN: set it and send it as a bearer token, or serve them on MANAGEMENT_PORT.',
      })
    }
    const sent = bearer(request)
    if (sent === undefined || !timingSafeEqual(digest(sent), expected)) {
      throw new AppError('unauthenticated', {
        detail: 'Send METRICS_TOKEN as "Authorization: Bearer <token>".',
        headers: { 'www-authenticate': 'Bearer' },
      })
    }
  }
}

/**
 * Liveness, readiness and metrics: what orchestrators and scrapers call, on the API's port and on
 * the management port (management-server.ts).
 */
export const opsRoutes: FastifyPluginAsyncTypebox<OpsRoutesOptions> = async (app, opts) => {
  app.get(
    '/healthz',
    {
      config: { access: 'public' },
      schema: {
        tags: ['operations'],
        operationId: 'healthz',
        summary: "The process is alive (and so is its delivery worker's loop, when it runs one)",
        security: [],
        response: { 200: Type.Object({ status: Type.Literal('ok') }), ...publicProblems(), 503: problem(503) },
      },
    },
    async () => {
      const worker = opts.worker?.()
      if (worker && !worker.alive) {
        throw new AppError('unavailable', {
          detail:
            worker.beatAgeMs === undefined
              ? 'The delivery worker is not running.'
              : `The delivery worker has not moved for ${Math.round(worker.beatAgeMs / 1000)} s (it counts as stalled after ${worker.limitMs / 1000} s).`,
        })
      }
      return { status: 'ok' as const }
    },
  )

  app.get(
    '/readyz',
    {
      config: { access: 'public' },
      schema: {
        tags: ['operations'],
        operationId: 'readyz',
        summary: 'The service can reach its database',
        security: [],
        response: { 200: Type.Object({ status: Type.Literal('ready') }), ...publicProblems(), 503: problem(503) },
      },
    },
    async () => {
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS)
      })
      try {
        // the query goes on in the background (the pool's own timeouts end it); the probe answers now
        await Promise.race([ping(opts.db), late])
      } catch (cause) {
        throw new AppError('unavailable', {
          detail: `The database did not answer within ${READY_TIMEOUT_MS / 1000} s.`,
          cause,
        })
      } finally {
        clearTimeout(timer)
      }
      return { status: 'ready' as const }
    },
  )

  app.get(
    '/metrics',
    {
      config: { access: 'metrics', checksToken: true },
      onRequest: metricsGuard(opts.metrics),
      schema: {
        tags: ['operations'],
        operationId: 'metrics',
        summary: 'Prometheus metrics, for the bearer of METRICS_TOKEN',
        security: [{ metricsToken: [] }],
        produces: ['text/plain'],
        response: {
          // a handful of metric families with bounded labels: tens of kB; the bound only describes that
          200: Type.String({ maxLength: 10_000_000, description: 'Prometheus text format' }),
          401: problem(401),
          404: { ...problem(404), description: 'Not served on this port: METRICS_TOKEN is not set (not-found)' },
          ...publicProblems(),
        },
      },
    },
    async (_req, reply) => reply.type(opts.registry.contentType).send(await opts.registry.metrics()),
  )
}

/** The OpenAPI document, on the API's port. */
export const openApiRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger())
}
