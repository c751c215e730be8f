import fs from 'node:fs'
import path from 'node:path'
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

export interface PostgresOptions {
  max?: number | undefined
  /** Opening a connection, or waiting for a free one in the pool; default 10 s. */
  connectTimeoutMs?: number | undefined
  /** How long a statement, or a transaction left idle, may last (0: no bound); default 60 s. */
  statementTimeoutMs?: number | undefined
}

// How much longer than the server's statement_timeout the client waits for an answer, so that on a
// healthy network the server's own timeout answers first and the connection is kept.
const ANSWER_GRACE_MS = 2_000

/**
 * A client that closes its connection when an answer does not come within `query_timeout`. pg
 * gives up on such a query but keeps the connection with the lost query still first in line: the
 * pool would lend it out again, and every later query on it would wait for that same answer.
 */
class BoundedClient extends pg.Client {
  // pg's own overloads, passed through unchanged
  override query(...args: any[]): any {
    const result: unknown = (super.query as (...a: unknown[]) => unknown)(...args)
    if (result instanceof Promise) {
      result.catch((err: unknown) => {
        // pg ends a connection with a query in flight at once, and the pool drops an ended client
        if ((err as Error | undefined)?.message === 'Query read timeout') this.end().catch(() => {})
      })
    }
    return result
  }
}

/**
 * PostgreSQL through a pooled `pg` client. Every wait is bounded: a server that stops answering
 * (a network partition, a host that vanished) costs a request an error, never a hang, and the
 * pool replaces the connections it lost by itself.
 */
export function connectPostgres(url: string, opts: PostgresOptions = {}): DatabaseHandle {
  const statementMs = opts.statementTimeoutMs ?? 60_000
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    ...(statementMs > 0
      ? {
          Client: BoundedClient,
          statement_timeout: statementMs,
          // a client cut off mid-transaction would otherwise hold its locks until TCP gives up
          idle_in_transaction_session_timeout: statementMs,
          query_timeout: statementMs + ANSWER_GRACE_MS,
        }
      : {}),
  })
  // An idle connection the server closed (a restart, pg_terminate_backend) is dropped by the pool;
  // without a listener its error would crash the process.
  pool.on('error', () => {})
  // So would one that breaks while lent out: its query fails (the caller sees that) and pg also
  // emits the error on the client, which the pool stops listening to while the client is lent.
  pool.on('connect', (client) => client.on('error', () => {}))
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  return { db, kind: 'postgres', where: redact(url), close: () => db.destroy() }
}

/**
 * PostgreSQL's default 128 MB of shared buffers is sized for a server of its own; inside our
 * process it is WebAssembly memory that is never given back. PGlite's files are read through the
 * operating system's page cache anyway, so a small buffer pool costs little (bench/README.md).
 */
const PGLITE_OPTIONS = { postgresqlconf: ['shared_buffers=16MB'] }

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
    // Loaded only when used: the module alone adds ~40 MB to a process that runs on PostgreSQL.
    const { PGlite } = await import('@electric-sql/pglite')
    const pglite = await PGlite.create(pgdata, { ...PGLITE_OPTIONS, ...(opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {}) })
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
  config: {
    databaseUrl: string | undefined
    dataDir: string
    databaseConnectTimeoutMs?: number | undefined
    databaseStatementTimeoutMs?: number | undefined
  },
  purpose?: string,
): Promise<DatabaseHandle> {
  return config.databaseUrl
    ? Promise.resolve(
        connectPostgres(config.databaseUrl, {
          connectTimeoutMs: config.databaseConnectTimeoutMs,
          statementTimeoutMs: config.databaseStatementTimeoutMs,
        }),
      )
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
