import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import type client from 'prom-client'

import type { Config } from '../config/config.ts'
import type { Db } from '../db/database.ts'
import type { WorkerLiveness } from '../delivery/worker.ts'
import { ProblemSchema } from '../lib/schemas.ts'
import { registerErrorHandling } from './error-handler.ts'
import { type HttpServerConfig, httpServerOptions } from './http-server-options.ts'
import { opsRoutes } from './ops.routes.ts'

/**
 * The management port (MANAGEMENT_PORT): /healthz, /readyz and /metrics on a port of their own,
 * for probes and scrapers inside the deployment, kept apart from the API's port and its clients.
 * `serve` opens it beside the API; `worker`, which has no other port, opens it to be probed at all.
 * /metrics asks for METRICS_TOKEN here too when it is set.
 */
export async function startManagementServer(opts: {
  config: Pick<Config, 'host' | 'metricsToken'> & { managementPort: number } & Partial<HttpServerConfig>
  db: Db
  registry: client.Registry
  worker?: (() => WorkerLiveness | undefined) | undefined
  log: FastifyBaseLogger
}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.log,
    // probes every few seconds would drown the log; failures are still logged by the error handler
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    ...httpServerOptions(opts.config),
  })
  app.addSchema(ProblemSchema)
  registerErrorHandling(app)
  await app.register(opsRoutes, {
    db: opts.db,
    registry: opts.registry,
    worker: opts.worker,
    metrics: { token: opts.config.metricsToken, withoutToken: 'open' },
  })
  await app.listen({ host: opts.config.host, port: opts.config.managementPort })
  return app
}
