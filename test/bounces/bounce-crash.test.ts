import assert from 'node:assert/strict'
import { once } from 'node:events'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, test, type TestContext } from 'node:test'

import { type RawBuilder, sql } from 'kysely'

import { buildTestApp, TEST_SECRET_KEY, type TestApp } from '../helpers/build-test-app.ts'
import { killedAtEnd } from '../helpers/children.ts'
import { startService } from '../helpers/service-process.ts'
import { testWorker } from '../helpers/test-worker.ts'
import { assertOnlyInFlightDuplicated, killWhenSinkHas, workerProcesses } from '../helpers/worker-processes.ts'
import { startSmtpSink } from '../peers/smtp-sink.ts'

/*
 * Issue 15: a bounce, and the fallback it queues, survive kills. Part one kills the delivery
 * worker (`account-contacts worker`, a child process, SIGKILL) while it sends the fallback
 * receipts and the "Fix a contact" mails of 200 bounces: after a restart every fallback is sent,
 * none lost, and only what was in flight at the kill twice. Part two kills the service
 * (`account-contacts serve`) while Postmark's events stream in: what was answered had committed,
 * what had not committed left nothing, and the provider's retries then complete each bounce once.
 * PGlite serves one process, so this needs PostgreSQL.
 */
const skip = process.env.DATABASE_URL
  ? false
  : 'needs DATABASE_URL (PostgreSQL): the worker and the service run in other processes, which PGlite cannot serve'

const ACCOUNTS = 200 // each: a primary contact (the super admin) and one billing contact
const SUBJECT = 'Receipt 2026-12'
const LEASE_SECONDS = 3
const POSTMARK = { username: 'hooks', password: 'postmark-webhook-password' }
const basic = `Basic ${Buffer.from(`${POSTMARK.username}:${POSTMARK.password}`).toString('base64')}`

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const accountId = (i: number) => `acc-${String(i).padStart(4, '0')}`
const primaryOf = (i: number) => `u0.acc${i}@example.com`
const billingOf = (i: number) => `u1.acc${i}@example.com`

/** A Postmark hard-bounce record for the mail that carried `ref`, as its webhook posts it. */
const bounceRecord = (i: number, ref: string) =>
  JSON.stringify({
    RecordType: 'Bounce',
    ID: 9000 + i,
    Type: 'HardBounce',
    TypeCode: 1,
    MessageID: `pm-${i}`,
    Email: billingOf(i),
    Description: 'The server was unable to deliver your message (ex: unknown user, mailbox not found).',
    Details: 'smtp;550 5.1.1 The email account that you tried to reach does not exist.',
    BouncedAt: new Date().toISOString(),
    Metadata: { 'ac-ref': ref },
  })

const headers = { authorization: basic, 'content-type': 'application/json' }

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

/** Rows of `query`, for assertions. */
const rows = async <R>(app: TestApp, query: RawBuilder<R>) => (await query.execute(app.handle.db)).rows

const count = async (app: TestApp, where: RawBuilder<unknown>) =>
  (await rows(app, sql<{ n: number }>`select count(*)::int as n from deliveries where ${where}`))[0]!.n

/** The row counts a bounce writes to, and what a second take of it must leave alone. */
const counts = async (app: TestApp) =>
  (
    await rows(
      app,
      sql<Record<string, number>>`
        select (select count(*) from deliveries)::int as deliveries, (select count(*) from suppressions)::int as suppressions,
          (select count(*) from events)::int as events, (select count(*) from audit_events)::int as audit_events,
          (select count(*) from notifications)::int as notifications, (select count(*) from mail_events)::int as mail_events`,
    )
  )[0]!

/**
 * 200 accounts, a receipt broadcast to them delivered in-process into `sink` (to the billing
 * contacts, as the receipt's rule says), and the Postmark bounce of each of those mails, by account
 * number: the reference comes from the mail's header, as an email service reports it back. Call
 * `killedAtEnd(t)` first, so that no child process outlives the test database.
 */
async function receiptsDelivered(t: TestContext) {
  const app = await buildTestApp(t, 'postgres', { emailEvents: { providers: { postmark: POSTMARK } } })
  const db = app.handle.db
  assert.ok(app.handle.url, 'the PostgreSQL test database exposes its URL')
  const sink = await startSmtpSink()
  t.after(() => sink.close())
  const { drain } = testWorker(t, app, { smtpUrl: sink.url })

  await sql`
    insert into accounts (id, name)
    select 'acc-' || lpad(i::text, 4, '0'), 'Account ' || i from generate_series(1, ${ACCOUNTS}) i`.execute(db)
  await sql`
    insert into users (account_id, id, email, name, role, status)
    select 'acc-' || lpad(i::text, 4, '0'), 'u' || j, 'u' || j || '.acc' || i || '@example.com', 'User ' || j,
      case when j = 0 then 'super_admin' else 'billing_admin' end, 'active'
    from generate_series(1, ${ACCOUNTS}) i, generate_series(0, 1) j`.execute(db)
  await sql`
    insert into contact_slots (account_id, slot, position, user_id, user_status)
    select 'acc-' || lpad(i::text, 4, '0'), case when j = 0 then 'primary' else 'billing' end, 0, 'u' || j, 'active'
    from generate_series(1, ${ACCOUNTS}) i, generate_series(0, 1) j`.execute(db)

  const res = await app.call({
    method: 'POST',
    url: '/v1/broadcasts',
    payload: { category: 'receipt', subject: SUBJECT, text: 'Thank you for your payment.' },
  })
  assert.equal(res.statusCode, 202, res.body)
  while (await app.services.broadcasts.processBatch());
  await drain(60_000)
  assert.equal(await count(app, sql`status = 'delivered'`), ACCOUNTS)
  assert.equal(await count(app, sql`true`), ACCOUNTS)

  const refByAddress = new Map<string, string>()
  for (const m of sink.messages) {
    const to = (Array.isArray(m.to) ? m.to : [m.to!]).flatMap((a) => a.value.map((v) => v.address!.toLowerCase()))
    assert.equal(m.subject, SUBJECT)
    assert.equal(to.length, 1)
    refByAddress.set(to[0]!, m.headers.get('x-account-contacts-ref') as string)
  }
  // to the billing contacts only, as the receipt's rule says
  assert.deepEqual([...refByAddress.keys()].sort(), Array.from({ length: ACCOUNTS }, (_, k) => billingOf(k + 1)).sort())
  const bounces = Array.from({ length: ACCOUNTS }, (_, k) => {
    const i = k + 1
    const ref = refByAddress.get(billingOf(i))
    assert.equal(typeof ref, 'string', `no receipt with a reference reached ${billingOf(i)}`)
    return bounceRecord(i, ref!)
  })
  // the billing contact's receipt of each account: what bounces
  const receipts = new Map(
    (await rows(app, sql<{ account_id: string; id: string }>`select account_id, id from deliveries`)).map((r) => [
      r.account_id,
      r.id,
    ]),
  )
  return { app, sink, drain, bounces, receipts }
}

/**
 * What 200 complete bounces leave, exactly: each receipt bounced with one fallback to its
 * account's primary contact and one suppression of the billing address, one "Fix a contact" mail
 * to the super admin, one event and one audit event, and no mail to a billing address again.
 */
async function assertEachBouncedOnce(app: TestApp, receipts: Map<string, string>, status: string) {
  const expected = Array.from({ length: ACCOUNTS }, (_, k) => k + 1)
  const bounced = await rows(
    app,
    sql<{ account_id: string; id: string; recipient: string; fallbacks: string[] }>`
      select b.account_id, b.id, b.recipient,
        coalesce(array_agg(f.recipient || ' ' || f.status order by f.id) filter (where f.id is not null), '{}') as fallbacks
      from deliveries b left join deliveries f on f.account_id = b.account_id and f.fallback_for = b.id
      where b.status = 'bounced' group by b.account_id, b.id, b.recipient order by b.account_id`,
  )
  assert.deepEqual(
    bounced,
    expected.map((i) => ({
      account_id: accountId(i),
      id: receipts.get(accountId(i)),
      recipient: billingOf(i),
      fallbacks: [`${primaryOf(i)} ${status}`],
    })),
    'every bounced receipt has exactly one fallback, to its primary contact',
  )
  const fixes = await rows(
    app,
    sql<{ account_id: string; recipient: string; status: string }>`
      select d.account_id, d.recipient, d.status from deliveries d
      join notifications n on n.account_id = d.account_id and n.id = d.notification_id
      where n.category = 'contact_undeliverable' order by d.account_id`,
  )
  assert.deepEqual(
    fixes,
    expected.map((i) => ({ account_id: accountId(i), recipient: primaryOf(i), status })),
    "each account's super admin has exactly one 'Fix a contact' mail",
  )
  const suppressed = await rows(
    app,
    sql<{ account_id: string; email: string; delivery_id: string }>`
      select account_id, email, delivery_id from suppressions where kind = 'hard_bounce' order by account_id, email`,
  )
  assert.deepEqual(
    suppressed,
    expected.map((i) => ({ account_id: accountId(i), email: billingOf(i), delivery_id: receipts.get(accountId(i)) })),
    'one suppression per billing address',
  )
  const c = (
    await rows(
      app,
      sql<Record<string, number>>`
        select (select count(*) from deliveries)::int as deliveries, (select count(*) from notifications)::int as notifications,
          (select count(*) from events where type = 'contact.undeliverable')::int as events,
          (select count(*) from audit_events where action = 'contacts.undeliverable')::int as audit_events,
          (select count(*) from mail_events)::int as mail_events`,
    )
  )[0]!
  // a receipt, its fallback and a "Fix a contact" mail per account, in two notifications
  assert.deepEqual(c, {
    deliveries: 3 * ACCOUNTS,
    notifications: 2 * ACCOUNTS,
    events: ACCOUNTS,
    audit_events: ACCOUNTS,
    mail_events: ACCOUNTS,
  })
}

describe('[postgres] bounces and their fallbacks through crashes', { skip }, () => {
  test('the worker killed with SIGKILL between 200 bounces and their fallback mails: after a restart each fallback is sent, none lost, only in-flight ones twice', async (t) => {
    const started = Date.now()
    const children = killedAtEnd(t)
    const { app, bounces, receipts } = await receiptsDelivered(t)
    const db = app.handle.db

    // 1. the bounces, one request each, as Postmark posts them
    for (const payload of bounces) {
      const r = await app.app.inject({ method: 'POST', url: '/v1/email-events/postmark', headers, payload })
      assert.equal(r.statusCode, 200, r.body)
    }
    const TOTAL = 2 * ACCOUNTS // a fallback receipt and a "Fix a contact" mail per bounce
    assert.equal(await count(app, sql`status = 'bounced'`), ACCOUNTS)
    assert.equal(await count(app, sql`status = 'queued'`), TOTAL)

    const sink = await startSmtpSink()
    t.after(() => sink.close())
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'account-contacts-bounce-crash-'))
    t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }))
    const workers = workerProcesses(children, {
      DATABASE_URL: app.handle.url!,
      SMTP_URL: sink.url,
      WORKER_LEASE_SECONDS: String(LEASE_SECONDS),
      PUBLIC_URL: 'http://contacts.test',
      SECRET_KEY: TEST_SECRET_KEY,
      LOG_LEVEL: 'warn',
      DATA_DIR: dataDir,
    })
    const { why } = workers

    // 2. a worker, killed without warning a third of the way through
    const KILL_AT = Math.floor(TOTAL / 3)
    await killWhenSinkHas(workers.start(), sink, KILL_AT, why)
    const receivedAtKill = sink.received()
    // a COMMIT the dead worker sent just before dying may still be finishing on the server
    await sleep(200)
    const inFlight = new Set(
      (await sql<{ id: string }>`select id from deliveries where status = 'sending'`.execute(db)).rows.map(
        (r) => `<${r.id}@contacts.test>`,
      ),
    )
    const deliveredAtKill = await count(app, sql`status = 'delivered' and fallback_for is not null`)
    const openAtKill = await count(app, sql`status in ('queued', 'sending', 'retrying')`)
    assert.ok(openAtKill > 0, 'the kill landed before the end')
    assert.ok(inFlight.size > 0, 'the kill landed in the middle of a batch')

    // 3. a second worker takes over the dead one's claims once their lease runs out
    const second = workers.start()
    const secondExit = once(second, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
    const end = Date.now() + 90_000
    while ((await count(app, sql`status in ('queued', 'sending', 'retrying')`)) > 0) {
      if (second.exitCode !== null || second.signalCode !== null)
        assert.fail(`the second worker exited early; ${why()}`)
      if (Date.now() > end) assert.fail(`deliveries still open after 90 s; ${why()}`)
      await sleep(200)
    }
    second.kill('SIGTERM')
    const [code] = await within(secondExit, 15_000, () => `the worker did not stop within 15 s of SIGTERM; ${why()}`)
    assert.equal(code, 0, `the worker exits 0 on SIGTERM; ${why()}`)

    // 4. the rows: each bounce complete, once, and every mail it queued delivered
    await assertEachBouncedOnce(app, receipts, 'delivered')

    // the mails: each queued one arrived, no other did, only in-flight ones twice
    const expected = new Set(
      (await sql<{ id: string }>`select id from deliveries where status = 'delivered'`.execute(db)).rows.map(
        (r) => `<${r.id}@contacts.test>`,
      ),
    )
    assert.equal(expected.size, TOTAL)
    const { duplicates, duplicatedIds } = assertOnlyInFlightDuplicated(sink, expected, inFlight)
    // each primary contact received the receipt (at least once), and no billing address got mail
    const receivedBy = (subject: RegExp) =>
      new Set(
        sink.messages
          .filter((m) => subject.test(m.subject ?? ''))
          .flatMap((m) => (Array.isArray(m.to) ? m.to : [m.to!]).flatMap((a) => a.value.map((v) => v.address!))),
      )
    const all = Array.from({ length: ACCOUNTS }, (_, k) => primaryOf(k + 1)).sort()
    assert.deepEqual([...receivedBy(new RegExp(`^${SUBJECT}$`))].sort(), all)
    assert.deepEqual([...receivedBy(/^Fix a contact/)].sort(), all)
    assert.equal(sink.messages.length, TOTAL + duplicates)

    t.diagnostic(
      `${TOTAL} mails after ${ACCOUNTS} bounces; at the kill: ${receivedAtKill} mails received, ${deliveredAtKill} fallbacks ` +
        `settled, ${openAtKill} open, ${inFlight.size} in flight; duplicates ${duplicates} (${duplicatedIds} Message-IDs); ` +
        `${sink.messages.length} mails received in all; ${((Date.now() - started) / 1000).toFixed(1)} s`,
    )
  })

  test('the service killed with SIGKILL while 200 bounces stream in: a bounce answered had committed, one not committed left nothing, and the retries complete each once', async (t) => {
    const started = Date.now()
    const children = killedAtEnd(t)
    const { app, bounces, receipts, drain } = await receiptsDelivered(t)
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'account-contacts-bounce-crash-'))
    t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }))
    const env = {
      DATABASE_URL: app.handle.url!,
      WORKER: 'off',
      MIGRATE_ON_START: 'false',
      POSTMARK_WEBHOOK_USERNAME: POSTMARK.username,
      POSTMARK_WEBHOOK_PASSWORD: POSTMARK.password,
      RATE_LIMIT_PER_MINUTE: '0',
      LOG_LEVEL: 'warn',
      DATA_DIR: dataDir,
    }
    const before = await counts(app)

    // 1. the events, 8 requests at a time, until the service is killed a third of the way in
    const service = await startService(children, env)
    const KILL_AFTER = Math.floor(ACCOUNTS / 3)
    const answered = new Set<number>()
    const sent = new Set<number>()
    const refused: string[] = []
    let next = 0
    let killed = false
    const exited = once(service.child, 'exit')
    const post = async () => {
      while (!killed && next < bounces.length) {
        const i = next++
        sent.add(i)
        const status = await fetch(`${service.url}/v1/email-events/postmark`, {
          method: 'POST',
          headers,
          body: bounces[i],
        }).then(
          (r) => r.status,
          () => undefined,
        )
        // no answer (the kill): the provider will retry it; any answer but 200 is a failure
        if (status === undefined) continue
        if (status !== 200) {
          refused.push(`${accountId(i + 1)}: ${status}`)
          continue
        }
        answered.add(i)
        if (answered.size >= KILL_AFTER && !killed) {
          killed = true
          service.child.kill('SIGKILL')
        }
      }
    }
    await Promise.all(Array.from({ length: 8 }, post))
    await exited
    assert.ok(killed, `the kill came before the end; ${service.output().slice(-3000)}`)
    assert.deepEqual(refused, [], service.output().slice(-3000))
    // the server rolls back what the dead process's connections had open
    await sleep(500)

    // at the kill: every answered bounce committed entirely, every other one entirely or not at all
    const bounced = (
      await rows(app, sql<{ account_id: string }>`select account_id from deliveries where status = 'bounced'`)
    ).map((r) => r.account_id)
    const byAccount = (set: Set<number>) => [...set].map((i) => accountId(i + 1))
    const unanswered = [...sent].filter((i) => !answered.has(i))
    for (const a of byAccount(answered)) assert.ok(bounced.includes(a), `${a}: answered 200 but not bounced`)
    for (const a of bounced) assert.ok(byAccount(sent).includes(a), `${a}: bounced but never posted`)
    const committed = bounced.sort()
    const of = async (query: RawBuilder<{ account_id: string }>) =>
      (await rows(app, query)).map((r) => r.account_id).sort()
    assert.deepEqual(
      await of(sql`select account_id from deliveries where fallback_for is not null`),
      committed,
      'a fallback exactly for each committed bounce',
    )
    assert.deepEqual(await of(sql`select account_id from suppressions`), committed)
    assert.deepEqual(await of(sql`select account_id from events where type = 'contact.undeliverable'`), committed)
    assert.deepEqual(
      await of(sql`select account_id from audit_events where action = 'contacts.undeliverable'`),
      committed,
    )
    assert.deepEqual(await of(sql`select account_id from mail_events`), committed)
    assert.deepEqual(
      await of(sql`
        select d.account_id from deliveries d join notifications n on n.account_id = d.account_id and n.id = d.notification_id
        where n.category = 'contact_undeliverable'`),
      committed,
    )
    const atKill = { sent: sent.size, answered: answered.size, committed: committed.length }

    // 2. restarted, Postmark retries every event (it cannot tell which ones we took)
    const again = await startService(children, env)
    for (const body of bounces) {
      const r = await fetch(`${again.url}/v1/email-events/postmark`, { method: 'POST', headers, body })
      assert.equal(r.status, 200, await r.text())
    }
    await assertEachBouncedOnce(app, receipts, 'queued')
    const after = await counts(app)
    assert.deepEqual(after, {
      ...before,
      deliveries: before.deliveries! + 2 * ACCOUNTS,
      suppressions: before.suppressions! + ACCOUNTS,
      events: before.events! + ACCOUNTS,
      audit_events: before.audit_events! + ACCOUNTS,
      notifications: before.notifications! + ACCOUNTS,
      mail_events: before.mail_events! + ACCOUNTS,
    })

    // 3. and once more (a provider retrying after our process died mid-request): nothing changes
    for (const body of bounces) {
      const r = await fetch(`${again.url}/v1/email-events/postmark`, { method: 'POST', headers, body })
      assert.equal(r.status, 200, await r.text())
    }
    assert.deepEqual(await counts(app), after)
    assert.equal(await again.stop(), 0)

    // the fallbacks and fix mails, delivered: each once
    await drain(60_000)
    await assertEachBouncedOnce(app, receipts, 'delivered')
    t.diagnostic(
      `at the kill: ${atKill.sent} events posted, ${atKill.answered} answered, ${atKill.committed} committed ` +
        `(${unanswered.length} unanswered, ${atKill.committed - atKill.answered} of them committed); ` +
        `after the retries ${ACCOUNTS} bounced once each; ${((Date.now() - started) / 1000).toFixed(1)} s`,
    )
  })
})
