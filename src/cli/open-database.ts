import type { Config } from '../config/config.ts'
import { connect, type DatabaseHandle } from '../db/connect.ts'
import { DataDirLockedError } from '../db/data-dir-lock.ts'
import { migrateToLatest } from '../db/migrate.ts'
import { CliError } from './cli-error.ts'

/**
 * Opens and migrates the configured database for a CLI command. When a running server holds the
 * embedded one, says so and how to go on, instead of a stack trace.
 */
export async function openDatabase(config: Config, purpose: string): Promise<DatabaseHandle> {
  let handle: DatabaseHandle
  try {
    handle = await connect(config, purpose)
  } catch (e) {
    if (e instanceof DataDirLockedError) {
      throw new CliError(
        `${e.message}\n` +
          `To go on: stop that process (kill ${e.holder.pid}) and run this command again; ` +
          // the holder is usually `serve`, and these commands work just as well through its API
          `or, when it is the server, run report, notify and broadcast through it: --url ${config.publicUrl} --api-key KEY; ` +
          'or run the service and its commands on PostgreSQL (DATABASE_URL=postgres://...).',
      )
    }
    throw e
  }
  try {
    await migrateToLatest(handle.db)
  } catch (e) {
    await handle.close()
    throw e
  }
  return handle
}
