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
  opts: { migrate?: 'always'; log?: Warner } = {},
): Promise<DatabaseHandle> {
  let handle: DatabaseHandle
  const log = opts.log
  try {
    handle = await connect(
      config,
      purpose,
      log
        ? { onConnectionError: connectionLost(log), onPreparedStatementsRefused: preparedStatementsRefused(log) }
        : {},
    )
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
const connectionLost = (log: Warner) => (err: Error) =>
  log.warn({ err }, 'a PostgreSQL connection was lost; the pool opens another')

/**
 * What a process logs when the connection turns out not to carry named statements (a pooler that
 * does not track them): the service goes on unnamed, and the operator learns how to say so.
 */
const preparedStatementsRefused = (log: Warner) => (err: Error) =>
  log.warn(
    { err },
    'the database connection does not carry prepared statements (PgBouncer before 1.21 in transaction mode, ' +
      'or max_prepared_statements = 0): unnamed statements from now on. Set DATABASE_PREPARED_STATEMENTS=off ' +
      'to start that way, or set max_prepared_statements in PgBouncer 1.21 or later',
  )

/** The part of a logger the database's notices need. */
export interface Warner {
  warn(o: object, m: string): void
}
