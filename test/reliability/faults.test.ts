import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { sql } from 'kysely'

import { connectPostgres } from '../../src/db/connect.ts'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { onServer, PG_OPTIONS } from '../helpers/databases.ts'
import { makeAccount } from '../helpers/factories.ts'
import { testWorker } from '../helpers/test-worker.ts'
import { startFaultProxy } from '../peers/fault-proxy.ts'
import { startSmtpSink } from '../peers/smtp-sink.ts'
import { type PhaseFigures, readyAgain, type Sent, writeWorkload } from './write-burst.ts'

/*
 * Faults: real network faults between the service and PostgreSQL and between the worker
 * and its SMTP server (a TCP proxy, test/peers/fault-proxy.ts), and backends killed with
 * pg_terminate_backend. Every write either fully lands or changes nothing and answers a problem;
 * the service recovers by itself; every delivery ends delivered or failed, none lost. A worker
 * killed with SIGKILL is test/delivery/crash-recovery.test.ts. The faults sit on a TCP connection
 * to a database server, which embedded PGlite has not: PostgreSQL only.
 */
const skip = process.env.DATABASE_URL
  ? false
  : 'needs DATABASE_URL (PostgreSQL): the faults sit on TCP connections to a database server'
// RELIABILITY_LONG=1: more accounts, bursts and faults. FAULTS_SEED=n replays a run (each test
// prints its seed); FAULTS_LOG=error shows the service's own log of the requests that failed.
const LONG = process.env.RELIABILITY_LONG === '1'
const SEED = Number(process.env.FAULTS_SEED ?? Date.now() % 1_000_000)

// The service's bounds in these tests: short, so a black hole costs seconds, not minutes, yet
// far above what a request needs under the latency phase on a busy two-core machine.
const CONNECT_TIMEOUT_MS = 5_000
const STATEMENT_TIMEOUT_MS = 4_000

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function pgServer() {
  const u = new URL(process.env.DATABASE_URL!)
  return { host: u.hostname, port: Number(u.port || 5432) }
}

/** The same database, reached through a proxy on `port`. */
function through(url: string, port: number): string {
  const u = new URL(url)
  u.host = `127.0.0.1:${port}`
  return u.toString()
}

function withParam(url: string, name: string, value: string): string {
  const u = new URL(url)
  u.searchParams.set(name, value)
  return u.toString()
}

const count = (xs: Sent[], p: (s: Sent) => boolean) => xs.filter(p).length
const is5xx = (s: Sent) => s.status >= 500
const is2xx = (s: Sent) => s.status >= 200 && s.status < 300

function line(phase: string, f: PhaseFigures | undefined): string {
  if (!f) return `${phase}: nothing sent`
  return (
    `${phase}: ${f.sent} requests, ${f.ok} succeeded and landed, ${f.refused} refused by a rule (4xx), ` +
    `${f.failed} failed with a 5xx problem and changed nothing, ${f.ambiguous} landed with the answer lost, lost ${f.lost}, slowest ${f.slowestMs} ms`
  )
}

type Workload = Awaited<ReturnType<typeof writeWorkload>>

/**
 * Sends every notification whose answer was a 5xx again, with its Idempotency-Key: it lands once
 * (the stored first answer when the first attempt did land), and no key ever has two.
 */
async function retryFailedNotifications(w: Workload, app: TestApp): Promise<{ retried: number; keysHeld: number }> {
  const failed = w.sent.filter((s) => s.kind === 'notify' && s.status >= 500)
  const retries = await Promise.all(failed.map((s) => w.resend(s, 'retry')))
  let keysHeld = 0
  for (const [i, r] of retries.entries()) {
    const first = failed[i]!
    if (r.status === 409 && r.body?.code === 'idempotency-key-in-use') {
      // the first attempt could not even forget its key (the database was gone): the key stays
      // running until it counts as abandoned, and nothing was sent under it
      const key = await app.handle.db
        .selectFrom('idempotency_keys')
        .select('status')
        .where('account_id', '=', first.accountId)
        .where('key', '=', first.headers['idempotency-key']!)
        .executeTakeFirstOrThrow()
      assert.equal(key.status, 'running')
      keysHeld++
      continue
    }
    assert.equal(r.status, 202, `retry of ${first.requestId}: ${r.status} ${JSON.stringify(r.body)}`)
  }
  const keyed = await sql<{ key: string; n: number }>`
    select k.key, count(n.id)::int as n from idempotency_keys k
    left join notifications n on n.account_id = k.account_id and n.id = k.response_body->>'id'
    where k.status = 'done' group by k.key having count(n.id) <> 1`.execute(app.handle.db)
  assert.deepEqual(keyed.rows, [], 'every done key answers exactly one notification')
  const notes = await sql<{ n: number }>`
    select count(*)::int as n from notifications where kind = 'notification' and request_id like 'flt-%'`.execute(
    app.handle.db,
  )
  const done = await sql<{ n: number }>`select count(*)::int as n from idempotency_keys where status = 'done'`.execute(
    app.handle.db,
  )
  assert.equal(notes.rows[0]!.n, done.rows[0]!.n, 'one notification per key, never two')
  return { retried: retries.length, keysHeld }
}

describe('[postgres] faults', { skip }, () => {
  test('a. service ↔ PostgreSQL through a fault proxy: latency, a black hole, resets, cut connections and a vanished server; every write all or nothing; recovery without restart', async (t) => {
    const started = Date.now()
    const proxy = await startFaultProxy(pgServer())
    // closed first (after hooks run in order): no proxied connection outlives the test database
    t.after(() => proxy.close())
    const app = await buildTestApp(t, 'postgres', {
      config: { logLevel: process.env.FAULTS_LOG ?? 'silent' },
      connectVia: (fresh) =>
        connectPostgres(through(fresh.url!, proxy.port), {
          ...PG_OPTIONS,
          max: 20,
          connectTimeoutMs: CONNECT_TIMEOUT_MS,
          statementTimeoutMs: STATEMENT_TIMEOUT_MS,
        }),
    })
    // the long form runs more bursts, not bigger ones: the latency phase is about the network
    const w = await writeWorkload(app, { accounts: 6, seed: SEED })
    const rounds = LONG ? 6 : 2
    const recovery: Record<string, number> = {}

    // latency: slower, and nothing fails
    proxy.latency(10)
    for (let i = 0; i < rounds; i++) await w.burst('latency')
    assert.equal(
      count(w.sent, (s) => s.phase === 'latency' && is5xx(s)),
      0,
      'no request fails under 10 ms of latency each way',
    )

    // a black hole: the pool's idle connections go silent and new ones are never answered
    // (the second burst finds the pool emptied by the first, and opens new connections into it)
    proxy.blackHole()
    const bh = [...(await w.burst('blackhole')), ...(await w.burst('blackhole'))]
    assert.equal(count(bh, is2xx), 0)
    assert.ok(bh.every(is5xx), 'every request in a black hole ends in a 5xx problem')
    const bound = CONNECT_TIMEOUT_MS + STATEMENT_TIMEOUT_MS + 2_000 + 3_000
    assert.ok(Math.max(...bh.map((s) => s.ms)) < bound, `every request in a black hole answers within ${bound} ms`)
    proxy.pass()
    recovery.blackhole = await readyAgain(w.base)

    // resets: every connection, old and new, is refused at once
    proxy.reset()
    for (let i = 0; i < Math.max(1, rounds / 2); i++) await w.burst('reset')
    assert.ok(w.sent.filter((s) => s.phase === 'reset').every(is5xx))
    proxy.pass()
    recovery.reset = await readyAgain(w.base)

    // live connections cut in the middle of bursts, at a different moment each time
    for (let i = 0; i < rounds * 2; i++) {
      const burst = w.burst('cut')
      await sleep(20 + ((SEED + i * 37) % 80))
      proxy.cutNow()
      await burst
    }
    recovery.cut = await readyAgain(w.base)

    // the server vanishes mid-burst without a word: its connections stay open and never answer
    // again; the service gives up on them (the client's answer bound) and the server ends the
    // transactions they left open (idle_in_transaction_session_timeout), freeing their locks
    {
      const burst = w.burst('vanished')
      await sleep(40 + (SEED % 60))
      proxy.forgetNow()
      await burst
    }
    recovery.vanished = await readyAgain(w.base)

    // and after all that, without a restart, everything works again
    for (let i = 0; i < rounds; i++) await w.burst('after')
    assert.equal(
      count(w.sent, (s) => s.phase === 'after' && is5xx(s)),
      0,
      'no failure once the faults cleared',
    )

    const retried = await retryFailedNotifications(w, app)

    const figures = await w.verify({ ambiguousAllowedIn: ['cut', 'vanished'] })
    for (const phase of ['latency', 'blackhole', 'reset', 'cut', 'vanished', 'after', 'retry'])
      t.diagnostic(line(phase, figures[phase]))
    const total = Object.values(figures).reduce((a, f) => ({ sent: a.sent + f.sent, lost: a.lost + f.lost }), {
      sent: 0,
      lost: 0,
    })
    t.diagnostic(
      `faults a: seed ${SEED}; ${proxy.stats.faults} faults injected (${proxy.stats.resets} connections reset, ${proxy.stats.swallowed} swallowed by the black hole, ${proxy.stats.connections} opened); ` +
        `${total.sent} requests, lost ${total.lost}; ${retried.retried} notifications retried with their key (${retried.keysHeld} keys still held running); ` +
        `ready again ${recovery.blackhole} ms after the black hole, ${recovery.reset} ms after resets, ${recovery.cut} ms after cuts, ${recovery.vanished} ms after the server vanished; ${((Date.now() - started) / 1000).toFixed(1)} s`,
    )
  })
  test('b. pg_terminate_backend on every connection of the service in the middle of write bursts: all or nothing, and recovery', async (t) => {
    const started = Date.now()
    const name = 'ac-faults-terminated'
    const app = await buildTestApp(t, 'postgres', {
      connectVia: (fresh) =>
        connectPostgres(withParam(fresh.url!, 'application_name', name), {
          ...PG_OPTIONS,
          max: 10,
          connectTimeoutMs: CONNECT_TIMEOUT_MS,
          statementTimeoutMs: STATEMENT_TIMEOUT_MS,
        }),
    })
    // The backends are ended, and what landed is read, from connections to the server itself,
    // not named like the service's: behind a pooler the test's own pooled connections would share
    // server connections with the service's, whose application_name they would then carry.
    const own = connectPostgres(onServer(app.handle.url!), PG_OPTIONS)
    t.after(() => own.close())
    const w = await writeWorkload(app, { accounts: LONG ? 12 : 6, seed: SEED + 1, reader: own.db })
    const rounds = LONG ? 12 : 4
    let terminated = 0
    for (let i = 0; i < rounds; i++) {
      const burst = w.burst('terminated')
      await sleep(15 + ((SEED + i * 53) % 60))
      // the service's connections only (by application_name): the test's own stay up
      const r = await sql<{ n: number }>`
        select count(*) filter (where pg_terminate_backend(pid))::int as n from pg_stat_activity
        where application_name = ${name} and datname = current_database()`.execute(own.db)
      terminated += r.rows[0]!.n
      await burst
    }
    assert.ok(terminated > 0, 'backends were terminated')
    const recoveryMs = await readyAgain(w.base)
    for (let i = 0; i < 2; i++) await w.burst('after')
    assert.equal(
      count(w.sent, (s) => s.phase === 'after' && is5xx(s)),
      0,
      'no failure once the faults cleared',
    )
    const retried = await retryFailedNotifications(w, app)

    const figures = await w.verify({ ambiguousAllowedIn: ['terminated'] })
    for (const phase of ['terminated', 'after', 'retry']) t.diagnostic(line(phase, figures[phase]))
    const total = Object.values(figures).reduce((a, f) => ({ sent: a.sent + f.sent, lost: a.lost + f.lost }), {
      sent: 0,
      lost: 0,
    })
    t.diagnostic(
      `faults b: seed ${SEED + 1}; pg_terminate_backend ${rounds} times mid-burst, ${terminated} backends terminated; ${total.sent} requests, lost ${total.lost}; ` +
        `${retried.retried} notifications retried with their key (${retried.keysHeld} keys still held running); ready again after ${recoveryMs} ms; ${((Date.now() - started) / 1000).toFixed(1)} s`,
    )
  })

  test('c. worker ↔ SMTP through a fault proxy: latency, resets, a black hole and cuts while deliveries are due; each ends delivered or failed, none lost, none stuck', async (t) => {
    const started = Date.now()
    const sink = await startSmtpSink()
    t.after(() => sink.close())
    const proxy = await startFaultProxy({ host: '127.0.0.1', port: sink.port })
    t.after(() => proxy.close())
    const app = await buildTestApp(t, 'postgres')
    const db = app.handle.db
    const LEASE_SECONDS = 2
    const { worker, drain } = testWorker(t, app, {
      smtpUrl: `smtp://127.0.0.1:${proxy.port}`,
      // a black-holed server costs a send 1 s, well inside the lease
      sendDeadlineMs: 1_000,
      options: { leaseSeconds: LEASE_SECONDS, batchSize: 10 },
    })
    // accounts with a primary and three billing contacts: an invoice is four mails
    const accounts: string[] = []
    for (let i = 0; i < (LONG ? 20 : 8); i++) {
      const { accountId, users } = await makeAccount(app, { extraUsers: 3 })
      const res = await app.call({
        method: 'PUT',
        url: `/v1/accounts/${accountId}/contacts`,
        headers: { 'if-match': '"1"' },
        payload: {
          primary: { userId: users.admin },
          billing: [{ userId: users.u1 }, { userId: users.u2 }, { userId: users.u3 }],
        },
      })
      assert.equal(res.statusCode, 200, res.body)
      accounts.push(accountId)
    }
    let queued = 0
    const invoice = async (i: number) => {
      const res = await app.call({
        method: 'POST',
        url: `/v1/accounts/${accounts[i % accounts.length]}/notifications`,
        payload: { category: 'invoice', subject: `Invoice ${i}`, text: 'Your invoice.' },
      })
      assert.equal(res.statusCode, 202, res.body)
      queued++
    }
    for (let i = 0; i < accounts.length * 2; i++) await invoice(i)

    // never a delivery left `sending` well past its lease while the worker runs
    let pastLease = 0
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        const r = await sql<{ n: number }>`
          select count(*)::int as n from deliveries where status = 'sending' and next_attempt_at < now() - interval '1 second'`.execute(
          db,
        )
        pastLease = Math.max(pastLease, r.rows[0]!.n)
        await sleep(100)
      }
    })()

    // the schedule runs while new invoices keep coming, so mail is due in every fault
    const schedule: [() => void, number][] = [
      [() => proxy.latency(150), LONG ? 4000 : 1500],
      [() => proxy.reset(), LONG ? 3000 : 1000],
      [() => proxy.blackHole(), LONG ? 5000 : 2500],
      [() => proxy.pass(), 300],
    ]
    worker.start()
    try {
      let i = accounts.length * 2
      for (const [inject, ms] of schedule) {
        inject()
        const end = Date.now() + ms
        while (Date.now() < end) {
          await invoice(i++)
          await sleep(100)
        }
      }
      // live SMTP sessions cut again and again
      for (let k = 0; k < (LONG ? 30 : 10); k++) {
        await invoice(i++)
        await sleep(80 + ((SEED + k * 31) % 120))
        proxy.cutNow()
      }
      proxy.pass()
    } finally {
      await worker.stop()
      sampling = false
      await sampler
    }
    await drain(30_000)

    const rows = await db
      .selectFrom('deliveries')
      .select(['id', 'status', 'attempts'])
      .where('channel', '=', 'email')
      .execute()
    const byStatus = (st: string) => rows.filter((r) => r.status === st)
    assert.equal(rows.length, queued * 4, 'four deliveries per invoice')
    assert.equal(
      byStatus('delivered').length + byStatus('failed').length,
      rows.length,
      'every delivery ended delivered or failed',
    )
    assert.equal(pastLease, 0, 'no delivery stayed sending past its lease')
    const received = new Map<string, number>()
    for (const m of sink.messages) received.set(m.messageId ?? '', (received.get(m.messageId ?? '') ?? 0) + 1)
    const missing = byStatus('delivered').filter((d) => !received.has(`<${d.id}@contacts.test>`))
    assert.deepEqual(
      missing.map((d) => d.id),
      [],
      'the server received every delivered Message-ID',
    )
    const duplicates = sink.messages.length - received.size
    t.diagnostic(
      `faults c: seed ${SEED}; ${proxy.stats.faults} faults injected (${proxy.stats.resets} SMTP connections reset, ` +
        `${proxy.stats.swallowed} swallowed by the black hole, ${proxy.stats.connections} opened); ${rows.length} deliveries: ${byStatus('delivered').length} delivered, ` +
        `${byStatus('failed').length} failed (attempts spent), lost 0, stuck past lease 0; ` +
        `${sink.messages.length} mails received, ${duplicates} duplicates (same Message-ID); most attempts ${Math.max(...rows.map((r) => r.attempts))}; ${((Date.now() - started) / 1000).toFixed(1)} s`,
    )
  })
})
