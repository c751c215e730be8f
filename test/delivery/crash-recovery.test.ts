import assert from 'node:assert/strict'
import { once } from 'node:events'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, test } from 'node:test'

import { type RawBuilder, sql } from 'kysely'

import { buildTestApp } from '../helpers/build-test-app.ts'
import { killedAtEnd } from '../helpers/children.ts'
import { assertOnlyInFlightDuplicated, killWhenSinkHas, workerProcesses } from '../helpers/worker-processes.ts'
import { startSmtpSink } from '../peers/smtp-sink.ts'

/*
 * At-least-once (docs/PRODUCT.md, "The outbox"): "once it commits, nothing is lost", and "only a delivery caught
 * mid-send by a crash can arrive twice". The real `account-contacts worker` runs as a child
 * process against a real SMTP server, is killed with SIGKILL (no shutdown handler runs) partway
 * through 2,000 mails, and a second worker process finishes the job. PGlite serves one process,
 * so this needs PostgreSQL.
 */
const skip = process.env.DATABASE_URL
  ? false
  : 'needs DATABASE_URL (PostgreSQL): the worker runs in other processes, which PGlite cannot serve'

const ACCOUNTS = 500 // × (1 primary + 3 billing contacts) = 2,000 invoice mails
const TOTAL = ACCOUNTS * 4
const KILL_AT = 600 // mails received by the SMTP server when the first worker is killed
const LEASE_SECONDS = 3

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** `p`, or a failure saying `what` once `ms` have passed (the timer never outlives the test). */
async function within<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what())), ms)
  })
  try {
    return await Promise.race([p, late])
  } finally {
    clearTimeout(timer)
  }
}

describe('[postgres] crash recovery of the delivery worker', { skip }, () => {
  test('a worker killed with SIGKILL mid-way through 2,000 mails: after a restart all are delivered, none lost, only in-flight ones duplicated', async (t) => {
    const started = Date.now()
    // Registered before buildTestApp's own cleanup (after hooks run in order), so no worker
    // process is left connected when the test database is dropped, whatever failed.
    const children = killedAtEnd(t)
    const app = await buildTestApp(t, 'postgres')
    const db = app.handle.db
    assert.ok(app.handle.url, 'the PostgreSQL test database exposes its URL')
    // kill as the server accepts mail number KILL_AT: whatever the machine's speed, the worker
    // has then sent that one without having recorded it, and the rest of its batch is on the way
    const sink = await startSmtpSink()
    t.after(() => sink.close())
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'account-contacts-crash-'))
    t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }))

    // 500 accounts, each with a primary and three billing contacts, in one statement per table
    await sql`
      insert into accounts (id, name)
      select 'acc-' || lpad(i::text, 4, '0'), 'Account ' || i from generate_series(1, ${ACCOUNTS}) i`.execute(db)
    await sql`
      insert into users (account_id, id, email, name, role, status)
      select 'acc-' || lpad(i::text, 4, '0'), 'u' || j, 'u' || j || '.acc' || i || '@example.com', 'User ' || j,
        case when j = 0 then 'super_admin' else 'billing_admin' end, 'active'
      from generate_series(1, ${ACCOUNTS}) i, generate_series(0, 3) j`.execute(db)
    await sql`
      insert into contact_slots (account_id, slot, position, user_id, user_status)
      select 'acc-' || lpad(i::text, 4, '0'), case when j = 0 then 'primary' else 'billing' end, greatest(j - 1, 0), 'u' || j, 'active'
      from generate_series(1, ${ACCOUNTS}) i, generate_series(0, 3) j`.execute(db)

    // an invoice broadcast, fanned out here so that the outbox holds all 2,000 before any worker runs
    const res = await app.call({
      method: 'POST',
      url: '/v1/broadcasts',
      payload: { category: 'invoice', subject: 'Invoice 2026-12', text: 'Your invoice.' },
    })
    assert.equal(res.statusCode, 202, res.body)
    while (await app.services.broadcasts.processBatch());
    const count = async (where: RawBuilder<unknown>) =>
      (await sql<{ n: number }>`select count(*)::int as n from deliveries where ${where}`.execute(db)).rows[0]!.n
    assert.equal(await count(sql`status = 'queued' and channel = 'email'`), TOTAL)
    assert.equal(await count(sql`true`), TOTAL)

    const workers = workerProcesses(children, {
      DATABASE_URL: app.handle.url,
      SMTP_URL: sink.url,
      WORKER_LEASE_SECONDS: String(LEASE_SECONDS),
      PUBLIC_URL: 'http://contacts.test',
      SECRET_KEY: 'x'.repeat(40),
      LOG_LEVEL: 'warn',
      DATA_DIR: dataDir,
    })
    const { why } = workers

    // 1. the first worker, killed without warning partway through
    await killWhenSinkHas(workers.start(), sink, KILL_AT, why)
    const receivedAtKill = sink.received()
    // a COMMIT the dead worker sent just before dying may still be finishing on the server
    await sleep(200)
    const inFlight = new Set(
      (await sql<{ id: string }>`select id from deliveries where status = 'sending'`.execute(db)).rows.map(
        (r) => `<${r.id}@contacts.test>`,
      ),
    )
    const deliveredAtKill = await count(sql`status = 'delivered'`)
    assert.ok(deliveredAtKill < TOTAL, 'the kill landed before the end')
    assert.ok(inFlight.size > 0, 'the kill landed in the middle of a batch')

    // 2. a new worker: takes over the dead one's claims once their lease runs out, sends the rest
    const second = workers.start()
    const secondExit = once(second, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
    const end = Date.now() + 90_000
    while ((await count(sql`status in ('queued', 'sending', 'retrying')`)) > 0) {
      if (second.exitCode !== null || second.signalCode !== null)
        assert.fail(`the second worker exited early; ${why()}`)
      if (Date.now() > end) assert.fail(`deliveries still open after 90 s; ${why()}`)
      await sleep(200)
    }
    second.kill('SIGTERM')
    const [code] = await within(secondExit, 15_000, () => `the worker did not stop within 15 s of SIGTERM; ${why()}`)
    assert.equal(code, 0, `the worker exits 0 on SIGTERM; ${why()}`)

    // every delivery delivered, and every one of them reached the SMTP server
    assert.equal(await count(sql`true`), TOTAL)
    assert.equal(await count(sql`status = 'delivered'`), TOTAL)
    const expected = new Set(
      (await sql<{ id: string }>`select id from deliveries`.execute(db)).rows.map((r) => `<${r.id}@contacts.test>`),
    )
    // none lost, none unknown, duplicates only of what was in flight at the kill, each at most once more
    const { duplicates, duplicatedIds } = assertOnlyInFlightDuplicated(sink, expected, inFlight)
    // and nothing else was attempted twice (no spurious lease take-overs while the workers ran)
    const retried = (await sql<{ id: string }>`select id from deliveries where attempts > 1`.execute(db)).rows.map(
      (r) => `<${r.id}@contacts.test>`,
    )
    assert.deepEqual(
      retried.filter((id) => !inFlight.has(id)),
      [],
      'only in-flight deliveries were claimed twice',
    )

    t.diagnostic(
      `delivered ${TOTAL}/${TOTAL}; at the kill: ${receivedAtKill} mails received, ${deliveredAtKill} deliveries settled, ` +
        `${inFlight.size} in flight; duplicates ${duplicates} (${duplicatedIds} Message-IDs); ` +
        `${sink.messages.length} mails received in all; ${((Date.now() - started) / 1000).toFixed(1)} s`,
    )
  })
})
