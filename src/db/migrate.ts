import type { Kysely } from 'kysely'
import { Migrator, type MigrationResultSet } from 'kysely/migration'
import { migrations } from './migrations/index.ts'

/**
 * Brings the schema up to date. Kysely's Migrator takes a lock (an advisory lock on PostgreSQL), so
 * several service processes starting at once migrate once, and runs each migration in a transaction.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } })
  const result = await migrator.migrateToLatest()
  if (result.error) throw result.error
  return result
}
