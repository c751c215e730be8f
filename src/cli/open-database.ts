import type { Config } from '../config/config.ts'
import { connect, type DatabaseHandle } from '../db/connect.ts'
import { DataDirLockedError } from '../db/data-dir-lock.ts'
import { migrateToLatest, pendingMigrations } from '../db/migrate.ts'
import { CliError } from './cli-error.ts'
import { andList, REMOTE_COMMANDS } from './usage.ts'

/**
 * Opens the configured database for a CLI command and brings its schema up to date, or, with
 * MIGRATE_ON_START=false (`migrate` itself always migrates), only checks that it is: a fleet then
 * migrates once, as a release step, and a process of a newer version than its schema refuses to
 * start instead of running against tables it does not expect. When a running server holds the
 * embedded database, says so and how to go on, instead of a stack trace.
 */
export async function openDatabase(
  config: Config,
  purpose: string,
  opts: { migrate?: 'always'; onConnectionError?: (err: Error) => void } = {},
): Promise<DatabaseHandle> {
  let handle: DatabaseHandle
  try {
    handle = await connect(config, purpose, { onConnectionError: opts.onConnectionError })
  } catch (e) {
    if (e instanceof DataDirLockedError) {
      throw new CliError(
        `${e.message}\n` +
          `To go on: stop that process (kill ${e.holder.pid}) and run this command again; ` +
          // the holder is usually `serve`, and these commands work just as well through its API
          `or, when it is the server, run ${andList(REMOTE_COMMANDS)} through it: --url ${config.publicUrl} --api-key KEY; ` +
          'or run the service and its commands on PostgreSQL (DATABASE_URL=postgres://...).',
      )
    }
    throw e
  }
  try {
    if (config.migrateOnStart || opts.migrate === 'always') await migrateToLatest(handle.db)
    else {
      const pending = await pendingMigrations(handle.db)
      if (pending.length > 0) {
        throw new CliError(
          `The database's schema is behind this version: ${pending.length} migration(s) not run (${pending.join(', ')}). ` +
            'Run `account-contacts migrate` first (the release step), or start with MIGRATE_ON_START=true.',
        )
      }
    }
  } catch (e) {
    await handle.close()
    throw e
  }
  return handle
}

/**
 * What a process logs when the pool loses a connection (a server restart, a cut network, a
 * pooler that closed it): a warning, since the pool replaces it by itself, but one an operator
 * should see when it repeats.
 */
export const connectionLost = (log: { warn(o: object, m: string): void }) => (err: Error) =>
  log.warn({ err }, 'a PostgreSQL connection was lost; the pool opens another')
