import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import { Kysely, PGliteDialect } from 'kysely'
import pg from 'pg'
import { connectPglite, connectPostgres, type DatabaseHandle, type DatabaseKind } from '../../src/db/connect.ts'
import { migrateToLatest } from '../../src/db/migrate.ts'

/**
 * The databases the suite runs on: PGlite always, PostgreSQL too when DATABASE_URL is set. Test
 * files loop over this list (Kysely's own suite does the same over its dialects) and put the
 * kind in every test's name, so the output says what ran on which.
 */
export const DATABASES: DatabaseKind[] = process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite']

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
async function pgliteTemplate(): Promise<Blob> {
  const file = path.join(os.tmpdir(), `account-contacts-pglite-${migrationsHash()}.tar.gz`)
  if (!fs.existsSync(file)) {
    const pglite = await PGlite.create()
    const db = new Kysely<any>({ dialect: new PGliteDialect({ pglite }) })
    await migrateToLatest(db)
    const dump = await pglite.dumpDataDir('gzip')
    await db.destroy()
    const tmp = `${file}.${process.pid}.tmp`
    fs.writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()))
    fs.renameSync(tmp, file) // atomic: parallel test files never read half a template
  }
  return new Blob([fs.readFileSync(file)])
}

/** A test database; on PostgreSQL also its connection string, for child processes (the real CLI). */
export type TestDatabaseHandle = DatabaseHandle & { url?: string }

/**
 * A fresh, migrated, empty database of the given kind, for one test file. On PostgreSQL it is a
 * new database on the DATABASE_URL server, dropped again on close.
 */
export async function freshDatabase(kind: DatabaseKind): Promise<TestDatabaseHandle> {
  if (kind === 'pglite') return connectPglite(undefined, { loadDataDir: await pgliteTemplate() })
  const base = process.env.DATABASE_URL
  if (!base) throw new Error('DATABASE_URL is not set')
  const name = `ac_test_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: base })
  await admin.connect()
  await admin.query(`create database ${name}`)
  await admin.end()
  const url = new URL(base)
  url.pathname = `/${name}`
  const handle = connectPostgres(url.toString(), { max: 20 })
  await migrateToLatest(handle.db)
  return {
    ...handle,
    url: url.toString(),
    close: async () => {
      await handle.close()
      // pg's pool.end() resolves before its sockets have closed. A forced drop would kill those
      // backends and their clients would raise errors into whatever test runs next, so wait for
      // them to go and drop politely; force only as a last resort.
      const c = new pg.Client({ connectionString: base })
      await c.connect()
      for (let i = 0; ; i++) {
        try {
          await c.query(`drop database if exists ${name}${i >= 50 ? ' with (force)' : ''}`)
          break
        } catch (e) {
          if (i >= 50 || (e as { code?: string }).code !== '55006') throw e // 55006: in use
          await new Promise((r) => setTimeout(r, 100))
        }
      }
      await c.end()
    },
  }
}
