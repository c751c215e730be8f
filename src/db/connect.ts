import fs from 'node:fs'
import path from 'node:path'

import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  PGliteDialect,
  PostgresDialect,
  type PostgresDialectConfig,
  PostgresDriver,
  type TransactionSettings,
} from 'kysely'
import pg from 'pg'

import { ensurePrivateDir, makePrivateDir } from '../lib/private-dir.ts'
import { acquireDataDirLock } from './data-dir-lock.ts'
import { type Database, type Db } from './database.ts'
import { unpackTemplate } from './pglite-template.ts'
import { StatementNames } from './prepared-statements.ts'

export type DatabaseKind = 'postgres' | 'pglite'

export interface DatabaseHandle {
  db: Db
  kind: DatabaseKind
  /** Where the data is, for messages: a redacted URL or a folder. */
  where: string
  /** On PostgreSQL, which statements the pool sends named (tests read it). */
  statementNames?: StatementNames
  close(): Promise<void>
}

// pg returns `bigint` (count(*)) as text; our counts fit in a double.
pg.types.setTypeParser(20, (v) => Number(v))

export interface PostgresOptions {
  /** Connections this process keeps at most (DATABASE_POOL_MAX); default 10. */
  max?: number | undefined
  /** Opening a connection, or waiting for a free one in the pool; default 10 s. */
  connectTimeoutMs?: number | undefined
  /** How long a statement, or a transaction left idle, may last (0: no bound); default 60 s. */
  statementTimeoutMs?: number | undefined
  /** Told of a connection the pool lost (a server restart, a cut network); the pool replaces it. */
  onConnectionError?: ((err: Error) => void) | undefined
  /**
   * Send statements of fixed shape as named (prepared) statements (DATABASE_PREPARED_STATEMENTS);
   * default true. See db/prepared-statements.ts.
   */
  preparedStatements?: boolean | undefined
  /** Told once when the connection turns out not to carry named statements; the pool then sends none. */
  onPreparedStatementsRefused?: ((err: Error) => void) | undefined
}

// How much longer than the statement timeout the client waits for an answer before it gives up on
// the statement itself: inside a transaction the server's own timeout then answers first.
const ANSWER_GRACE_MS = 2_000
// How long a cancel request may take to deliver before the connection is dropped regardless.
const CANCEL_WAIT_MS = 2_000

/**
 * Asks the server to stop the statement `client` is running: a CancelRequest on a connection of
 * its own, as psql's Ctrl-C sends. PgBouncer passes it on to the server connection that runs the
 * statement. Resolves when the server has closed that connection (it has then acted) or after
 * CANCEL_WAIT_MS.
 */
function cancelOnServer(client: pg.Client): Promise<void> {
  const { host, port } = (client as unknown as { connectionParameters: { host: string; port: number } })
    .connectionParameters
  const { processID, secretKey } = client as unknown as { processID: number; secretKey: number }
  return new Promise((resolve) => {
    // pg's protocol connection; its typings leave out the two methods a cancel needs
    const con = new pg.Connection() as pg.Connection & {
      connect(portOrPath: number | string, host?: string): void
      cancel(processID: number, secretKey: number): void
    }
    const timer = setTimeout(() => {
      con.stream.destroy()
      resolve()
    }, CANCEL_WAIT_MS)
    const done = () => {
      clearTimeout(timer)
      resolve()
    }
    con.on('connect', () => con.cancel(processID, secretKey))
    con.on('end', done)
    con.on('error', done)
    if (host.startsWith('/')) con.connect(`${host}/.s.PGSQL.${port}`)
    else con.connect(port, host)
  })
}

/**
 * The pool's client. It sends a statement of fixed shape as a named (prepared) statement when
 * `names` gives it a name (db/prepared-statements.ts), and it gives up on a statement whose answer
 * does not come within `query_timeout`: it asks the server to cancel the statement, then closes the
 * connection. pg alone gives up on the query but keeps the connection with the lost query still
 * first in line: the pool would lend it out again, and every later query on it would wait for that
 * same answer. Cancelling first matters behind a pooler: closing our end alone would leave the
 * statement running on the server.
 */
function clientClass(names: StatementNames): typeof pg.Client {
  return class ServiceClient extends pg.Client {
    #cancelled: Promise<void> | undefined

    // pg's own overloads, passed through unchanged: one signature that overrides them all must be `any`
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
    override query(...args: any[]): any {
      const [text, values] = args as [unknown, unknown]
      const name =
        args.length === 2 && typeof text === 'string' && Array.isArray(values)
          ? names.nameFor(text, values.length)
          : undefined
      if (name === undefined) return this.#bounded(args)
      // Kysely runs one query at a time on a connection, so this is the state it runs in
      const alone = !['T', 'E'].includes(this.getTransactionStatus() ?? 'I')
      return (this.#bounded([{ name, text, values }]) as Promise<unknown>).catch((err: unknown) => {
        // a pooler that cannot carry named statements: alone, the statement did nothing and runs
        // again unnamed; inside a transaction, that has failed, and transaction() runs it again
        if (names.refusedBy(err) && alone) return this.#bounded(args)
        throw err
      })
    }

    #bounded(args: unknown[]): unknown {
      const result: unknown = (super.query as (...a: unknown[]) => unknown)(...args)
      if (result instanceof Promise) {
        result.catch((err: unknown) => {
          if ((err as Error | undefined)?.message !== 'Query read timeout') return
          // never lent out again: the pool ends a client that is not queryable when it comes back,
          // and `end` below waits for the cancel to reach the server first
          ;(this as unknown as { _queryable: boolean })._queryable = false
          this.#cancelled ??= cancelOnServer(this)
        })
      }
      return result
    }

    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- pg's overloads again, as for query
    override end(...args: any[]): any {
      if (!this.#cancelled) return (super.end as (...a: unknown[]) => unknown)(...args)
      const ended = this.#cancelled.then(() => super.end())
      const callback = args[0]
      if (typeof callback !== 'function') return ended
      ended.then(() => callback(), callback)
    }
  }
}

/**
 * Kysely's PostgreSQL driver, with the statement and idle-in-transaction timeouts set at the
 * start of every transaction (`SET LOCAL`, in the same round trip as BEGIN). That is where they
 * survive a pooler: PgBouncer in transaction mode refuses them as start-up parameters ("unsupported
 * startup parameter") and would hand a session-level SET to whichever client came next, while a
 * transaction always runs whole on one server connection. A statement outside any transaction
 * is bounded by the client instead (clientClass), at the timeout plus ANSWER_GRACE_MS.
 */
class BoundedPostgresDriver extends PostgresDriver {
  readonly #locals: string
  constructor(config: PostgresDialectConfig, statementMs: number) {
    super(config)
    this.#locals = `set local statement_timeout = ${statementMs}; set local idle_in_transaction_session_timeout = ${statementMs}`
  }
  override async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    let begin = 'start transaction'
    if (settings.isolationLevel) begin += ` isolation level ${settings.isolationLevel}`
    if (settings.accessMode) begin += ` ${settings.accessMode}`
    // no parameters: pg sends it as one simple query, three statements in one round trip
    await connection.executeQuery(CompiledQuery.raw(`${begin}; ${this.#locals}`))
  }
}

class BoundedPostgresDialect extends PostgresDialect {
  constructor(
    private readonly dialectConfig: PostgresDialectConfig,
    private readonly statementMs: number,
  ) {
    super(dialectConfig)
  }
  override createDriver(): Driver {
    return new BoundedPostgresDriver(this.dialectConfig, this.statementMs)
  }
}

/**
 * PostgreSQL through a pooled `pg` client, directly or through a transaction-mode pooler
 * (PgBouncer, as managed PostgreSQL is usually reached): nothing here depends on a session
 * outliving one transaction. Every wait is bounded: a server that stops answering (a network
 * partition, a host that vanished) costs a request an error, never a hang, and the pool replaces
 * the connections it lost by itself.
 */
export function connectPostgres(url: string, opts: PostgresOptions = {}): DatabaseHandle {
  const statementMs = opts.statementTimeoutMs ?? 60_000
  const onError = opts.onConnectionError ?? (() => {})
  const statementNames = new StatementNames(opts.preparedStatements ?? true, opts.onPreparedStatementsRefused)
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    Client: clientClass(statementNames),
    ...(statementMs > 0 ? { query_timeout: statementMs + ANSWER_GRACE_MS } : {}),
  })
  // An idle connection the server closed (a restart, pg_terminate_backend) is dropped by the pool;
  // without a listener its error would crash the process. So would one that breaks while lent
  // out: its query fails (the caller sees that) and pg also emits the error on the client, which
  // the pool stops listening to while the client is lent. An idle one raises both: told once.
  const told = new WeakSet<object>()
  const tell = (err: Error, client: object) => {
    if (told.has(client)) return
    told.add(client)
    onError(err)
  }
  pool.on('error', tell)
  pool.on('connect', (client) => client.on('error', (err) => tell(err, client)))
  const dialectConfig: PostgresDialectConfig = { pool }
  const dialect =
    statementMs > 0 ? new BoundedPostgresDialect(dialectConfig, statementMs) : new PostgresDialect(dialectConfig)
  const db = new Kysely<Database>({ dialect })
  return { db, kind: 'postgres', where: redact(url), statementNames, close: () => db.destroy() }
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
    ensurePrivateDir(dataDir)
    pgdata = path.join(dataDir, 'pgdata')
    release = acquireDataDirLock(dataDir, opts.purpose ?? 'account-contacts')
    // a folder PGlite has not made yet comes from the build's template rather than initdb
    if (isEmptyOrMissing(pgdata)) {
      fs.rmSync(pgdata, { recursive: true, force: true })
      unpackTemplate(pgdata)
    }
    makePrivateDir(pgdata)
  }
  try {
    // Loaded only when used: the module alone adds ~40 MB to a process that runs on PostgreSQL.
    const { PGlite } = await import('@electric-sql/pglite')
    const pglite = await PGlite.create(pgdata, {
      ...PGLITE_OPTIONS,
      ...(opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {}),
    })
    const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) })
    return {
      db,
      kind: 'pglite',
      where: pgdata ?? 'memory',
      close: async () => {
        await db.destroy()
        // Kysely's driver closes the instance only if it ever handed out a connection: a handle
        // closed unused would keep PGlite, and the process, alive
        if (!pglite.closed) await pglite.close()
        release()
      },
    }
  } catch (e) {
    release()
    throw e
  }
}

const isEmptyOrMissing = (dir: string) => !fs.existsSync(dir) || fs.readdirSync(dir).length === 0

/** The database the configuration names: PostgreSQL with DATABASE_URL, else PGlite in DATA_DIR. */
export function connect(
  config: {
    databaseUrl: string | undefined
    dataDir: string
    databaseConnectTimeoutMs?: number | undefined
    databaseStatementTimeoutMs?: number | undefined
    databasePoolMax?: number | undefined
    databasePreparedStatements?: boolean | undefined
  },
  purpose?: string,
  opts: Pick<PostgresOptions, 'onConnectionError' | 'onPreparedStatementsRefused'> = {},
): Promise<DatabaseHandle> {
  return config.databaseUrl
    ? Promise.resolve(
        connectPostgres(config.databaseUrl, {
          max: config.databasePoolMax,
          connectTimeoutMs: config.databaseConnectTimeoutMs,
          statementTimeoutMs: config.databaseStatementTimeoutMs,
          preparedStatements: config.databasePreparedStatements,
          onConnectionError: opts.onConnectionError,
          onPreparedStatementsRefused: opts.onPreparedStatementsRefused,
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
