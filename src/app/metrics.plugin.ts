import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import client from 'prom-client'

/**
 * Prometheus metrics: the process's defaults and one histogram of request durations by route
 * (the route pattern, not the URL, so ids do not explode the label set). A registry per app, so
 * that several apps in one test process do not collide.
 */
export const metricsPlugin = fp(
  async (app: FastifyInstance) => {
    const registry = new client.Registry()
    client.collectDefaultMetrics({ register: registry })
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
