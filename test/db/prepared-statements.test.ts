import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, test, type TestContext } from 'node:test'

import { sql } from 'kysely'

import { listSlotHoldersOfAccounts } from '../../src/contacts/contacts.repository.ts'
import { connectPostgres, type DatabaseHandle } from '../../src/db/connect.ts'
import { migrateToLatest } from '../../src/db/migrate.ts'
import { transaction } from '../../src/db/transaction.ts'
import { settleDelivered } from '../../src/delivery/deliveries.repository.ts'
import { countDeliveriesByStatus } from '../../src/notifications/notifications.repository.ts'
import { buildTestApp } from '../helpers/build-test-app.ts'
import { freshDatabase, onServer, PG_OPTIONS } from '../helpers/databases.ts'
import { getSheet, makeAccount } from '../helpers/factories.ts'

/*
 * DATABASE_PREPARED_STATEMENTS, both ways (db/prepared-statements.ts). The server's own view of a
 * connection (pg_prepared_statements) says what was prepared; a PgBouncer of the machine's
 * (Debian's 1.18 in CI, which does not track named statements in transaction mode) shows what
 * the default does behind a pooler that cannot carry them.
 */
const skip = process.env.DATABASE_URL ? false : 'needs DATABASE_URL (PostgreSQL)'
// pg_prepared_statements is a session's, which a pooler would not keep: those tests go to the server (onServer)

/**
 * A fresh database, dropped only after everything the test opened on it (`closeFirst`) has
 * closed: a DROP DATABASE waits up to 5 s for each backend still connected before it fails.
 */
async function database(t: TestContext) {
  const fresh = await freshDatabase('postgres')
  const closers: (() => unknown)[] = []
  t.after(async () => {
    for (const close of closers.reverse()) await close()
    await fresh.close()
  })
  return { url: fresh.url!, closeFirst: (close: () => unknown) => void closers.push(close) }
}

describe(`[postgres] prepared statements`, { skip }, () => {
  test('on (the default): a statement with parameters is prepared once on the connection and used again', async (t) => {
    const fresh = await database(t)
    const handle = connectPostgres(onServer(fresh.url), { max: 1 })
    fresh.closeFirst(() => handle.close())
    const read = () => listSlotHoldersOfAccounts(handle.db, ['acct_x', 'acct_y'])
    await read()
    await read()
    const prepared = await sql<{ name: string; statement: string }>`
      select name, statement from pg_prepared_statements`.execute(handle.db)
    const ours = prepared.rows.filter((r) => r.name.startsWith('ac_'))
    assert.equal(ours.length, 1, JSON.stringify(prepared.rows))
    assert.match(ours[0]!.statement, /from "contact_slots" as "s"/)
    assert.equal(handle.statementNames!.size, 1)
  })

  test('off: nothing is prepared, and the same queries answer the same', async (t) => {
    const fresh = await database(t)
    const handle = connectPostgres(onServer(fresh.url), { max: 1, preparedStatements: false })
    fresh.closeFirst(() => handle.close())
    assert.deepEqual(await listSlotHoldersOfAccounts(handle.db, ['acct_x']), [])
    const prepared = await sql<{ n: number }>`select count(*)::int as n from pg_prepared_statements`.execute(handle.db)
    assert.equal(prepared.rows[0]!.n, 0)
    assert.equal(handle.statementNames!.size, 0)
  })

  test('lists of any length are one statement each: the set of names does not grow with them', async (t) => {
    const fresh = await database(t)
    const handle = connectPostgres(fresh.url, { ...PG_OPTIONS, preparedStatements: true })
    fresh.closeFirst(() => handle.close())
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `id_${i}`)
    const run = async (n: number) => {
      await listSlotHoldersOfAccounts(handle.db, ids(n))
      await settleDelivered(
        handle.db,
        ids(n).map((id) => ({ account_id: 'acct', id })),
        'token',
      )
      await countDeliveriesByStatus(
        handle.db,
        ids(n).map((id) => ({ account_id: 'acct', id })),
      )
    }
    await run(1)
    const names = handle.statementNames!.texts()
    assert.equal(names.length, 3)
    for (const n of [2, 3, 7, 50]) await run(n)
    assert.deepEqual(handle.statementNames!.texts(), names)
  })
})

describe(`[postgres] prepared statements of the contact sheet's writes`, { skip }, () => {
  test('each write is one composed statement of a few shapes, whatever its values', async (t) => {
    // named whatever the run's setting, and on the server itself: a pooler that cannot carry them
    // (CI's pass through PgBouncer 1.18) would turn them off
    let service: DatabaseHandle | undefined
    const app = await buildTestApp(t, 'postgres', {
      connectVia: (fresh) => (service = connectPostgres(onServer(fresh.url!), { max: 4, preparedStatements: true })),
    })
    const names = service!.statementNames!
    // every kind of sheet write: a slot filled, changed (a mail to the previous holder), left as it
    // is, emptied; billing added, removed from the front (a reorder), the whole sheet, a review
    const round = async () => {
      const { accountId, users } = await makeAccount(app, { extraUsers: 3 })
      const url = `/v1/accounts/${accountId}/contacts`
      const ok = async (method: 'PUT' | 'POST' | 'DELETE', path: string, payload?: object) => {
        const headers = method === 'PUT' && path === '' ? { 'if-match': (await getSheet(app, accountId)).etag } : {}
        const res = await app.call({ method, url: `${url}${path}`, headers, ...(payload ? { payload } : {}) })
        assert.equal(res.statusCode, 200, `${method} ${path}: ${res.body}`)
      }
      await ok('PUT', '/primary', { userId: users.u1 })
      await ok('PUT', '/primary', { userId: users.u2 })
      await ok('PUT', '/primary', { userId: users.u2 })
      await ok('DELETE', '/primary')
      for (const u of [users.u1, users.u2, users.u3]) await ok('POST', '/billing', { userId: u })
      await ok('DELETE', `/billing/${users.u1}`)
      await ok('PUT', '', {
        primary: { userId: users.u3 },
        billing: [{ userId: users.u1 }],
        onboarding: { userId: users.u2 },
      })
      await ok('POST', '/review')
    }
    await round()
    const known = new Set(names.texts())
    await round()
    await round()
    assert.deepEqual(
      names.texts().filter((text) => !known.has(text)),
      [],
    )
    const composed = names
      .texts()
      .filter((text) => text.startsWith('with "w0" as (') && text.includes('"contacts_version" + '))
    t.diagnostic(`${composed.length} composed sheet writes of ${names.size} named statements`)
    assert.ok(composed.length >= 3 && composed.length <= 8, String(composed.length))
  })
})

/** A PgBouncer of our own in transaction mode (scripts/start-pgbouncer.sh), or why there is none. */
function startPgbouncer(closeFirst: (close: () => unknown) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgbouncer-test-'))
  const url = execFileSync('bash', ['scripts/start-pgbouncer.sh'], {
    env: { ...process.env, PGBOUNCER_DIR: dir },
    encoding: 'utf8',
  }).trim()
  closeFirst(() => {
    const pid = Number(fs.readFileSync(path.join(dir, 'pgbouncer.pid'), 'utf8'))
    process.kill(pid)
    fs.rmSync(dir, { recursive: true, force: true })
  })
  return url
}

const noPgbouncer = (() => {
  if (!process.env.DATABASE_URL) return 'needs DATABASE_URL (PostgreSQL)'
  try {
    execFileSync('pgbouncer', ['--version'], { stdio: 'ignore' })
    return false
  } catch {
    return 'needs pgbouncer on PATH (apt-get install pgbouncer)'
  }
})()

describe('[postgres] prepared statements behind a pooler that cannot carry them', { skip: noPgbouncer }, () => {
  test('the default finds out, says so once, and every statement still runs, alone or in a transaction, right', async (t) => {
    const fresh = await database(t)
    const pooler = new URL(startPgbouncer(fresh.closeFirst))
    pooler.pathname = new URL(onServer(fresh.url)).pathname
    const version = execFileSync('pgbouncer', ['--version'], { encoding: 'utf8' }).split('\n')[0]!
    // two processes' pools on the one pooler: the same name must mean the same statement in both
    const refused: { pool: number; err: Error }[] = []
    const pools = [0, 1].map((pool) =>
      connectPostgres(pooler.toString(), { max: 4, onPreparedStatementsRefused: (err) => refused.push({ pool, err }) }),
    )
    fresh.closeFirst(() => Promise.all(pools.map((p) => p.close())))
    const work = pools.flatMap((p, which) =>
      Array.from({ length: 40 }, async (_, i) => {
        const alone = await sql<{ n: number }>`select ${i}::int + ${which}::int as n`.execute(p.db)
        assert.equal(alone.rows[0]!.n, i + which)
        const inside = await transaction(p.db, async (trx) => {
          const a = await sql<{ s: string }>`select ${`x${i}`}::text || ${'y'}::text as s`.execute(trx)
          const b = await sql<{ n: number }>`select ${i}::int * 2 as n`.execute(trx)
          return `${a.rows[0]!.s}/${b.rows[0]!.n}`
        })
        assert.equal(inside, `x${i}y/${i * 2}`)
      }),
    )
    await Promise.all(work)
    t.diagnostic(`${version}: ${refused.length} pool(s) told it cannot carry prepared statements`)
    // Debian's 1.18 cannot: each pool hears it once and goes on unnamed; 1.21+ with
    // max_prepared_statements set carries them, and nobody is told
    for (const [i, p] of pools.entries()) {
      const told = refused.filter((r) => r.pool === i)
      assert.ok(told.length <= 1, `pool ${i} was told ${told.length} times`)
      assert.equal(p.statementNames!.on, told.length === 0)
    }
    for (const { err } of refused) assert.match(err.message, /prepared statement/)
  })

  test('migrating (its own transaction, outside transaction()) gets past the refusal too', async (t) => {
    const fresh = await database(t)
    const pooler = new URL(startPgbouncer(fresh.closeFirst))
    pooler.pathname = new URL(onServer(fresh.url)).pathname
    // one process after another, as services start: each new pool's first transaction is the
    // migration, whose named statements the server connection may already hold from the last
    let refusals = 0
    for (let i = 0; i < 4; i++) {
      const handle = connectPostgres(pooler.toString(), { max: 2, onPreparedStatementsRefused: () => refusals++ })
      try {
        const result = await migrateToLatest(handle.db)
        assert.equal(result.error, undefined)
      } finally {
        await handle.close()
      }
    }
    t.diagnostic(`${refusals} of 4 pools found out during their migration`)
  })
})
