import assert from 'node:assert/strict'
import { describe, test, type TestContext } from 'node:test'

import { sql } from 'kysely'
import pg from 'pg'

import { connectPostgres } from '../../src/db/connect.ts'
import { PG, pgError } from '../../src/db/pg-errors.ts'
import { transaction } from '../../src/db/transaction.ts'
import { killedAtEnd } from '../helpers/children.ts'
import { blankDatabase, freshDatabase, PG_OPTIONS } from '../helpers/databases.ts'
import { startService } from '../helpers/service-process.ts'

/*
 * What a transaction-mode pooler changes, checked on whatever DATABASE_URL names. In CI the
 * PostgreSQL suite runs twice: on the server itself, and through PgBouncer in transaction mode
 * with its default settings (scripts/start-pgbouncer.sh, DATABASE_ADMIN_URL naming the server).
 * Through PgBouncer every connection used to be refused ("unsupported startup parameter:
 * statement_timeout"), the timeouts were silently 0 when it was told to ignore them, and
 * migrations could leave their session lock on a pooled connection.
 */
const skip = process.env.DATABASE_URL ? false : 'needs DATABASE_URL (PostgreSQL, or PgBouncer in front of it)'
const where = process.env.DATABASE_ADMIN_URL ? 'through the pooler' : 'on the server'
const LIMIT_MS = 1_000

const elapsed = async (p: Promise<unknown>) => {
  const t0 = performance.now()
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  return { err, ms: performance.now() - t0 }
}

/** What the server is running now in `database` (read on the server itself, not through the pooler). */
async function running(database: string, like: string): Promise<number> {
  const c = new pg.Client({ connectionString: process.env.DATABASE_ADMIN_URL ?? process.env.DATABASE_URL })
  await c.connect()
  try {
    const r = await c.query(
      `select count(*)::int as n from pg_stat_activity where datname = $1 and state = 'active' and query like $2`,
      [database, like],
    )
    return r.rows[0].n as number
  } finally {
    await c.end()
  }
}

/** A fresh database and a connection to it with the timeouts at LIMIT_MS, closed after the test. */
async function boundedDatabase(t: TestContext) {
  const fresh = await freshDatabase('postgres')
  const handle = connectPostgres(fresh.url!, { ...PG_OPTIONS, statementTimeoutMs: LIMIT_MS })
  t.after(async () => {
    await handle.close()
    await fresh.close()
  })
  return { fresh, handle }
}

describe(`[postgres] timeouts ${where}`, { skip }, () => {
  test('inside a transaction the statement timeout is in effect and the server stops a statement over it', async (t) => {
    const { handle } = await boundedDatabase(t)
    const shown = await transaction(handle.db, async (trx) => ({
      statement: (await sql<{ statement_timeout: string }>`show statement_timeout`.execute(trx)).rows[0]!
        .statement_timeout,
      idle: (
        await sql<{ idle_in_transaction_session_timeout: string }>`show idle_in_transaction_session_timeout`.execute(
          trx,
        )
      ).rows[0]!.idle_in_transaction_session_timeout,
    }))
    assert.deepEqual(shown, { statement: '1s', idle: '1s' })

    const { err, ms } = await elapsed(transaction(handle.db, (trx) => sql`select pg_sleep(30)`.execute(trx)))
    assert.equal(pgError(err)?.code, PG.queryCanceled, String(err))
    assert.ok(ms < 10_000, `stopped after ${Math.round(ms)} ms`)
    // the connection it ran on is fine afterwards
    assert.equal((await sql<{ n: number }>`select 1 as n`.execute(handle.db)).rows[0]!.n, 1)
  })

  test('a transaction left idle past the limit is ended by the server, and its locks with it', async (t) => {
    const { handle } = await boundedDatabase(t)
    const { err } = await elapsed(
      transaction(handle.db, async (trx) => {
        await sql`select 1`.execute(trx)
        await new Promise((r) => setTimeout(r, LIMIT_MS + 1_500))
        await sql`select 1`.execute(trx)
      }),
    )
    assert.ok(err, 'the transaction did not survive its idle time')
    assert.equal((await sql<{ n: number }>`select 1 as n`.execute(handle.db)).rows[0]!.n, 1)
  })

  test('a statement outside any transaction is given up and cancelled on the server, not left running', async (t) => {
    const { fresh, handle } = await boundedDatabase(t)
    const name = new URL(fresh.url!).pathname.slice(1)
    const { err, ms } = await elapsed(sql`select pg_sleep(60) as lone_statement`.execute(handle.db))
    assert.match(String(err), /Query read timeout/)
    assert.ok(ms < 10_000, `gave up after ${Math.round(ms)} ms`)
    let left = -1
    for (let i = 0; i < 50 && left !== 0; i++) {
      left = await running(name, '%lone_statement%')
      if (left) await new Promise((r) => setTimeout(r, 100))
    }
    assert.equal(left, 0, 'the server still runs the statement the client gave up on')
    assert.equal((await sql<{ n: number }>`select 1 as n`.execute(handle.db)).rows[0]!.n, 1)
  })
})

describe(`[postgres] six processes starting at once ${where}`, { skip }, () => {
  test('all migrate the same new database and become ready, under other traffic, and no lock is left behind', async (t) => {
    const children = killedAtEnd(t)
    const blank = await blankDatabase()
    t.after(() => blank.drop())
    // other clients keep server connections busy meanwhile, as on a shared pooler
    const busy = connectPostgres(blank.url, { ...PG_OPTIONS, max: 6, statementTimeoutMs: 0 })
    let stop = false
    const traffic = Array.from({ length: 6 }, async () => {
      while (!stop) await sql`select pg_sleep(0.05)`.execute(busy.db).catch(() => {})
    })
    t.after(async () => {
      stop = true
      await Promise.all(traffic)
      await busy.close()
    })

    const t0 = performance.now()
    const services = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        startService(
          children,
          { DATABASE_URL: blank.url, WORKER: i % 2 === 0 ? 'on' : 'off', LOG_LEVEL: 'warn' },
          { readyTimeoutMs: 60_000 },
        ),
      ),
    )
    const readyMs = performance.now() - t0
    t.diagnostic(`six processes ready in ${Math.round(readyMs)} ms`)
    for (const s of services) assert.equal((await fetch(`${s.url}/readyz`)).status, 200)

    const c = new pg.Client({ connectionString: process.env.DATABASE_ADMIN_URL ?? process.env.DATABASE_URL })
    await c.connect()
    try {
      const migrated = await c.query(`select count(*)::int as n from pg_database where datname = $1`, [blank.name])
      assert.equal(migrated.rows[0].n, 1)
      const locks = await c.query(
        `select count(*)::int as n from pg_locks l join pg_database d on d.oid = l.database where l.locktype = 'advisory' and d.datname = $1`,
        [blank.name],
      )
      assert.equal(locks.rows[0].n, 0, 'an advisory lock is still held')
    } finally {
      await c.end()
    }
    const applied = await sql<{ n: number }>`select count(*)::int as n from kysely_migration`.execute(busy.db)
    assert.ok(applied.rows[0]!.n >= 2, 'the migrations ran once, all of them')
    const t1 = performance.now()
    assert.deepEqual(
      await Promise.all(services.map((s) => s.stop())),
      [0, 0, 0, 0, 0, 0],
      'each stopped cleanly on SIGTERM',
    )
    t.diagnostic(`six processes stopped in ${Math.round(performance.now() - t1)} ms`)
  })
})

describe(
  '[postgres] a lost connection is reported',
  {
    skip:
      process.env.DATABASE_URL && !process.env.DATABASE_ADMIN_URL
        ? false
        : 'needs DATABASE_URL naming the server itself (a pooler keeps the client side open)',
  },
  () => {
    test('an idle pooled connection the server ends reaches onConnectionError, and the pool goes on', async (t) => {
      const fresh = await freshDatabase('postgres')
      const lost: Error[] = []
      const handle = connectPostgres(fresh.url!, { ...PG_OPTIONS, onConnectionError: (err) => lost.push(err) })
      t.after(async () => {
        await handle.close()
        await fresh.close()
      })
      const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(handle.db)).rows[0]!.pid
      const c = new pg.Client({ connectionString: process.env.DATABASE_URL })
      await c.connect()
      await c.query('select pg_terminate_backend($1)', [pid])
      await c.end()
      for (let i = 0; i < 50 && lost.length === 0; i++) await new Promise((r) => setTimeout(r, 100))
      assert.equal(lost.length, 1, 'the loss was reported once')
      assert.match(lost[0]!.message, /terminat/i)
      assert.equal((await sql<{ n: number }>`select 1 as n`.execute(handle.db)).rows[0]!.n, 1)
    })
  },
)
