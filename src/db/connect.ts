import fs from 'node:fs'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely'
import pg from 'pg'
import type { Database } from './database.ts'
import { acquireDataDirLock } from './data-dir-lock.ts'

export type DatabaseKind = 'postgres' | 'pglite'

export interface DatabaseHandle {
  db: Kysely<Database>
  kind: DatabaseKind
  /** Where the data is, for messages: a redacted URL or a folder. */
  where: string
  close(): Promise<void>
}

// pg returns `bigint` (count(*)) as text; our counts fit in a double.
pg.types.setTypeParser(20, (v) => Number(v))

/** PostgreSQL through a pooled `pg` client. */
export function connectPostgres(url: string, opts: { max?: number } = {}): DatabaseHandle {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10 })
  // An idle connection the server closed (a restart, pg_terminate_backend) is dropped by the pool;
  // without a listener its error would crash the process.
  pool.on('error', () => {})
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  return { db, kind: 'postgres', where: redact(url), close: () => db.destroy() }
}

/**
 * PGlite, the embedded PostgreSQL. It serves one process: a lock file beside the data says which
 * process has it, so a second one (a CLI command while `serve` runs) stops with a clear message
 * instead of corrupting the folder. `dataDir` undefined means in memory (tests).
 */
export async function connectPglite(
  dataDir: string | undefined,
  opts: { loadDataDir?: Blob; purpose?: string } = {},
): Promise<DatabaseHandle> {
  let release = () => {}
  let pgdata: string | undefined
  if (dataDir) {
    fs.mkdirSync(dataDir, { recursive: true })
    pgdata = path.join(dataDir, 'pgdata')
    release = acquireDataDirLock(dataDir, opts.purpose ?? 'account-contacts')
  }
  try {
    const pglite = await PGlite.create(pgdata, opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {})
    const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) })
    return {
      db,
      kind: 'pglite',
      where: pgdata ?? 'memory',
      close: async () => {
        await db.destroy()
        release()
      },
    }
  } catch (e) {
    release()
    throw e
  }
}

/** The database the configuration names: PostgreSQL with DATABASE_URL, else PGlite in DATA_DIR. */
export function connect(
  config: { databaseUrl: string | undefined; dataDir: string },
  purpose?: string,
): Promise<DatabaseHandle> {
  return config.databaseUrl
    ? Promise.resolve(connectPostgres(config.databaseUrl))
    : connectPglite(config.dataDir, purpose ? { purpose } : {})
}

function redact(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return 'postgres'
  }
}
