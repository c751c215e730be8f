import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import client from 'prom-client'

import type { Db } from '../db/database.ts'
import { registerOutboxMetrics, registerWorkerMetrics } from '../delivery/delivery.metrics.ts'
import type { WorkerLiveness } from '../delivery/worker.ts'

/**
 * The metrics of a process: its defaults (memory, event loop, GC), the outbox's backlog and, when
 * it runs a delivery worker, the worker's liveness. A registry per process part rather than
 * prom-client's global one, so that several apps in one test process do not collide.
 */
export function createMetricsRegistry(deps: {
  db: Db
  log: { warn(o: object, m: string): void }
  worker?: (() => WorkerLiveness | undefined) | undefined
}): client.Registry {
  const registry = new client.Registry()
  client.collectDefaultMetrics({ register: registry })
  registerOutboxMetrics(registry, deps.db, deps.log)
  const worker = deps.worker
  if (worker) registerWorkerMetrics(registry, () => worker() ?? { alive: false, beatAgeMs: undefined, limitMs: 0 })
  return registry
}

/**
 * The registry above on the app (`app.metricsRegistry`), plus one histogram of request durations
 * by route (the route pattern, not the URL, so ids do not explode the label set).
 */
export const metricsPlugin = fp(
  async (app: FastifyInstance, opts: { db: Db; worker?: (() => WorkerLiveness | undefined) | undefined }) => {
    const registry = createMetricsRegistry({ db: opts.db, log: app.log, worker: opts.worker })
    const duration = new client.Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    })
    app.addHook('onResponse', async (request, reply) => {
      duration.observe(
        { method: request.method, route: request.routeOptions.url ?? 'unknown', status: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      )
    })
    app.decorate('metricsRegistry', registry)
  },
  { name: 'metrics' },
)

declare module 'fastify' {
  interface FastifyInstance {
    metricsRegistry: client.Registry
  }
}
