import pino from 'pino'

import { startManagementServer } from '../../app/management-server.ts'
import { createMetricsRegistry } from '../../app/metrics.plugin.ts'
import { servicesFor, workerFor } from '../../app/runtime.ts'
import type { Config } from '../../config/config.ts'
import { logStream } from '../../lib/log-format.ts'
import { defineCommand } from '../command.ts'
import { openDatabase } from '../open-database.ts'
import { onShutdown } from '../shutdown.ts'

/**
 * `account-contacts worker`: a delivery worker alone (run several, on PostgreSQL, beside `serve`
 * with WORKER=off). It opens no port unless MANAGEMENT_PORT is set: then probes and scrapers reach
 * its /healthz (the loop's liveness), /readyz and /metrics there.
 */
async function worker(config: Config): Promise<void> {
  const stream = logStream(config.logFormat)
  const log = (stream ? pino({ level: config.logLevel }, stream) : pino({ level: config.logLevel })).child({
    component: 'worker',
  })
  const handle = await openDatabase(config, 'account-contacts worker', { log })
  const services = servicesFor(handle, config)
  const w = workerFor(services, config, log)
  w.start()
  const managementPort = config.managementPort
  const liveness = () => w.liveness()
  const management =
    managementPort === undefined
      ? undefined
      : await startManagementServer({
          config: { ...config, managementPort },
          db: services.db,
          registry: createMetricsRegistry({ db: services.db, log, worker: liveness }),
          worker: liveness,
          log,
        })
  log.info({ database: handle.where, mail: config.smtpUrl ? 'smtp' : 'eml', managementPort }, 'worker started')
  onShutdown(log, async () => {
    await management?.close()
    await w.stop()
    await w.closeTransports()
    await handle.close()
  })
}

export const command = defineCommand({
  options: {},
  async run({ config }) {
    await worker(config)
    return -1 // keeps running
  },
})
