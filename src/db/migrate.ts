import { type Kysely, sql } from 'kysely'
import { type MigrationResultSet, Migrator } from 'kysely/migration'

import { migrations } from './migrations/index.ts'
import { transaction } from './transaction.ts'

// Any fixed number: the key of the advisory lock that lets one process at a time migrate.
const MIGRATION_LOCK_KEY = 7_246_501_113

/**
 * Brings the schema up to date, all pending migrations in one transaction that first takes a
 * transaction-level advisory lock: several processes starting at once wait for each other and
 * migrate once, and a process killed midway leaves nothing half done and no lock behind.
 *
 * Not Kysely's own lock alone: it is a session-level advisory lock taken before its transaction
 * and released after it, and behind a transaction-mode pooler (PgBouncer) the lock, the
 * migrations and the unlock can each land on another server connection, leaving the lock held
 * by a pooled connection and the next start waiting on it. Here everything is one transaction,
 * which a pooler always runs whole on one server connection. (Kysely still takes its lock inside
 * ours, on the same connection, and releases it before the commit.)
 */
// Kysely<any>, as for a migration: before it runs, the database's tables are not yet `Database`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  // Through transaction(), so that it runs again on what any transaction may meet: above all a
  // pooler that turns out not to carry named statements (db/prepared-statements.ts), which fails
  // the transaction it is found in. DDL is transactional: a failed attempt leaves nothing behind.
  return transaction(db, async (trx) => {
    await sql`select pg_advisory_xact_lock(${sql.lit(MIGRATION_LOCK_KEY)})`.execute(trx)
    const result = await new Migrator({
      db: trx,
      provider: { getMigrations: async () => migrations },
    }).migrateToLatest()
    // thrown, so that the transaction rolls back with the migration's own error
    if (result.error) throw result.error
    return result
  })
}

/**
 * The migrations this version has that the database has not run yet (empty: up to date). For a
 * process started with MIGRATE_ON_START=false, where migrating is a release step of its own.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a database not yet migrated, as above
export async function pendingMigrations(db: Kysely<any>): Promise<string[]> {
  const infos = await new Migrator({ db, provider: { getMigrations: async () => migrations } }).getMigrations()
  return infos.filter((m) => m.executedAt === undefined).map((m) => m.name)
}
