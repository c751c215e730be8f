import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import type { IsolationLevel } from 'kysely'
import pg from 'pg'

import { connectPglite, connectPostgres, type DatabaseHandle, type DatabaseKind } from '../../src/db/connect.ts'
import { migrateToLatest } from '../../src/db/migrate.ts'
import { writeTemplate } from '../../src/db/pglite-template.ts'

/**
 * The databases the suite runs on: PGlite always, PostgreSQL too when DATABASE_URL is set. Test
 * files loop over this list (Kysely's own suite does the same over its dialects) and put the
 * kind in every test's name, so the output says what ran on which. `TEST_DATABASES=postgres`
 * leaves the PGlite half out: CI's second pass (another Node, through PgBouncer) is about the
 * server and the pooler, and the first pass has already run every test on PGlite.
 */
export const DATABASES: DatabaseKind[] = (() => {
  const available: DatabaseKind[] = process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite']
  const chosen = process.env.TEST_DATABASES?.split(',').map((k) => k.trim())
  if (!chosen) return available
  const unknown = chosen.filter((k) => !available.includes(k as DatabaseKind))
  if (unknown.length > 0)
    throw new Error(`TEST_DATABASES names ${unknown.join(', ')}, which this run has not (DATABASE_URL set?)`)
  return available.filter((k) => chosen.includes(k))
})()

/**
 * What the suite's own PostgreSQL connections are opened with: prepared statements as the
 * environment says (CI's pass through PgBouncer 1.18 turns them off, as its users must), so that
 * the tests run the way the service does in that place. Child processes read the same variable.
 */
export const PG_OPTIONS = { preparedStatements: process.env.DATABASE_PREPARED_STATEMENTS !== 'off' } as const

/** The database of `url` on the server itself: DATABASE_ADMIN_URL's host when DATABASE_URL is a pooler. */
export function onServer(url: string): string {
  const u = new URL(url)
  const server = new URL(process.env.DATABASE_ADMIN_URL ?? url)
  u.host = server.host
  return u.toString()
}

const migrationsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/db/migrations')

/** A hash of the migrations' sources: the cached template is rebuilt whenever one changes. */
function migrationsHash(): string {
  const h = createHash('sha256')
  for (const f of fs.readdirSync(migrationsDir).sort()) h.update(f).update(fs.readFileSync(path.join(migrationsDir, f)))
  return h.digest('hex').slice(0, 16)
}

/**
 * A migrated PGlite data folder, made once and kept in the temp folder: starting PGlite from it
 * takes under a second, against several for a fresh init + migrate (Graphile Worker keeps a
 * template database for the same reason).
 */
export async function pgliteTemplateFile(): Promise<string> {
  const file = path.join(os.tmpdir(), `account-contacts-pglite-${migrationsHash()}.tar.gz`)
  if (!fs.existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`
    await writeTemplate(tmp)
    fs.renameSync(tmp, file) // atomic: parallel test files never read half a template
  }
  return file
}

const pgliteTemplate = async () => new Blob([fs.readFileSync(await pgliteTemplateFile())])

/** A test database; on PostgreSQL also its connection string, for child processes (the real CLI). */
export type TestDatabaseHandle = DatabaseHandle & { url?: string }

/**
 * Where test databases are created and dropped. DATABASE_URL may be a pooler (PgBouncer in CI);
 * DATABASE_ADMIN_URL then names the server itself, so that a drop is not refused by the pooler's
 * own idle connections to the database (they are ended with it: `with (force)`).
 */
const adminUrl = () => process.env.DATABASE_ADMIN_URL ?? process.env.DATABASE_URL
const behindPooler = () => process.env.DATABASE_ADMIN_URL !== undefined

/**
 * A fresh, migrated, empty database of the given kind, for one test file. On PostgreSQL it is a
 * new database on the DATABASE_URL server, dropped again on close. `isolation` makes it the
 * database's default transaction isolation, as YugabyteDB (repeatable read) and CockroachDB
 * (serializable) have by default: it holds through a pooler, since every new server connection
 * to the database starts with it.
 */
export async function freshDatabase(
  kind: DatabaseKind,
  opts: { isolation?: IsolationLevel } = {},
): Promise<TestDatabaseHandle> {
  if (kind === 'pglite') return connectPglite(undefined, { loadDataDir: await pgliteTemplate() })
  const base = process.env.DATABASE_URL
  const admin = adminUrl()
  if (!base || !admin) throw new Error('DATABASE_URL is not set')
  const name = `ac_test_${randomBytes(6).toString('hex')}`
  const adminClient = new pg.Client({ connectionString: admin })
  await adminClient.connect()
  await adminClient.query(`create database ${name}`)
  if (opts.isolation)
    await adminClient.query(`alter database ${name} set default_transaction_isolation = '${opts.isolation}'`)
  await adminClient.end()
  const url = new URL(base)
  url.pathname = `/${name}`
  const handle = connectPostgres(url.toString(), { ...PG_OPTIONS, max: 20 })
  await migrateToLatest(handle.db)
  return {
    ...handle,
    url: url.toString(),
    close: async () => {
      await handle.close()
      // pg's pool.end() resolves before its sockets have closed. A forced drop would kill those
      // backends and their clients would raise errors into whatever test runs next, so wait for
      // them to go and drop politely; force only as a last resort, or at once behind a pooler,
      // whose idle server connections never go by themselves.
      const c = new pg.Client({ connectionString: admin })
      await c.connect()
      for (let i = 0; ; i++) {
        const force = i >= 50 || behindPooler()
        try {
          await c.query(`drop database if exists ${name}${force ? ' with (force)' : ''}`)
          break
        } catch (e) {
          if (force || (e as { code?: string }).code !== '55006') throw e // 55006: in use
          await new Promise((r) => setTimeout(r, 100))
        }
      }
      await c.end()
    },
  }
}

/**
 * A new, empty PostgreSQL database that nothing has migrated (for tests of what happens at the
 * first start), with its connection string on the DATABASE_URL server; `drop` removes it.
 */
export async function blankDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const base = process.env.DATABASE_URL
  const admin = adminUrl()
  if (!base || !admin) throw new Error('DATABASE_URL is not set')
  const name = `ac_test_${randomBytes(6).toString('hex')}`
  const run = async (statement: string) => {
    const c = new pg.Client({ connectionString: admin })
    await c.connect()
    try {
      await c.query(statement)
    } finally {
      await c.end()
    }
  }
  await run(`create database ${name}`)
  const url = new URL(base)
  url.pathname = `/${name}`
  return { name, url: url.toString(), drop: () => run(`drop database if exists ${name} with (force)`) }
}
