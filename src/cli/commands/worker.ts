import pino from 'pino'
import { servicesFor, workerFor } from '../../app/runtime.ts'
import type { Config } from '../../config/config.ts'
import { openDatabase } from '../open-database.ts'
import { onShutdown } from '../shutdown.ts'

/** `account-contacts worker`: a delivery worker alone (run several, on PostgreSQL, beside `serve` with WORKER=off). */
export async function worker(config: Config): Promise<void> {
  const handle = await openDatabase(config, 'account-contacts worker')
  const log = pino({ level: config.logLevel }).child({ component: 'worker' })
  const services = servicesFor(handle, config)
  const w = workerFor(services, config, log)
  w.start()
  log.info({ database: handle.where, mail: config.smtpUrl ? 'smtp' : 'eml' }, 'worker started')
  onShutdown(log, async () => {
    await w.stop()
    await w.closeTransports()
    await handle.close()
  })
}
