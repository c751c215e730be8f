import assert from 'node:assert/strict'
import { describe, test, type TestContext } from 'node:test'

import { sql } from 'kysely'

import { countSoftBounces, lockAddresses } from '../../src/bounces/bounces.repository.ts'
import { loadConfig } from '../../src/config/config.ts'
import { createSmtpTransport } from '../../src/delivery/transports/smtp.transport.ts'
import type { EmailTransport } from '../../src/delivery/transports/transport.ts'
import { createWebhookTransport } from '../../src/delivery/transports/webhook.transport.ts'
import { createWorker } from '../../src/delivery/worker.ts'
import { createPruner, pruneTurn, retentionChore, type RetentionDeps } from '../../src/retention/retention.ts'
import type { TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { makeAccount } from '../helpers/factories.ts'
import { appWithMail } from '../helpers/test-worker.ts'
import { startWebhookReceiver } from '../peers/webhook-receiver.ts'

/*
 * The retention chore on a real database: history older than RETENTION_DAYS goes in bounded
 * batches, what is young or still in flight stays, audit events only when AUDIT_RETENTION_DAYS
 * says so. Rows are aged by moving their timestamps back, as time would.
 */

const DAYS = 400
const SOFT_BOUNCE_DAYS = 7

const deps = (app: TestApp, auditRetentionDays?: number): RetentionDeps => ({
  db: app.services.db,
  clock: app.services.clock,
  retentionDays: DAYS,
  auditRetentionDays,
  softBounceDays: SOFT_BOUNCE_DAYS,
})

/** Moves rows of `table` (`where` picks them) `days` into the past. */
async function age(
  app: TestApp,
  table: 'notifications' | 'events' | 'idempotency_keys' | 'audit_events',
  days: number,
  where = sql`true`,
) {
  const column = sql.ref(table === 'audit_events' ? 'at' : 'created_at')
  await sql`update ${sql.table(table)} set ${column} = ${column} - make_interval(days => ${days}) where ${where}`.execute(
    app.handle.db,
  )
}

const count = async (app: TestApp, table: string, where = sql`true`) =>
  (await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)} where ${where}`.execute(app.handle.db))
    .rows[0]!.n

async function notify(app: TestApp, accountId: string, subject: string, key?: string): Promise<string> {
  const res = await app.call({
    method: 'POST',
    url: `/v1/accounts/${accountId}/notifications`,
    payload: { category: 'account_update', subject, text: `${subject}.` },
    ...(key ? { headers: { 'idempotency-key': key } } : {}),
  })
  assert.equal(res.statusCode, 202, res.body)
  return res.json().id
}

async function setPrimary(app: TestApp, accountId: string, userId: string) {
  const res = await app.call({ method: 'PUT', url: `/v1/accounts/${accountId}/contacts/primary`, payload: { userId } })
  assert.equal(res.statusCode, 200, res.body)
}

/** An app with mail going to an SMTP sink and every webhook event to a receiver, and an account. */
async function history(t: TestContext, kind: (typeof DATABASES)[number]) {
  const { app, sink, drain } = await appWithMail(t, kind)
  const receiver = await startWebhookReceiver()
  t.after(() => receiver.close())
  const endpoint = await app.call({ method: 'POST', url: '/v1/webhook-endpoints', payload: { url: receiver.url } })
  assert.equal(endpoint.statusCode, 201, endpoint.body)
  const account = await makeAccount(app)
  await setPrimary(app, account.accountId, account.users.admin!)
  return { app, sink, drain, ...account }
}

for (const kind of DATABASES) {
  describe(`[${kind}] retention`, () => {
    test('old delivered notifications and events go with their deliveries; young ones and old ones still in flight stay', async (t) => {
      const { app, drain, accountId, users } = await history(t, kind)
      const oldOnes = [await notify(app, accountId, 'Old one', 'key-old'), await notify(app, accountId, 'Old two')]
      const young = await notify(app, accountId, 'Young', 'key-young')
      await drain()
      // still queued when pruned: its mail, and the contacts.updated event's webhook
      const inFlight = await notify(app, accountId, 'Old, not yet sent')
      await setPrimary(app, accountId, users.member!)
      assert.ok((await count(app, 'deliveries', sql`status = 'queued' and channel = 'webhook'`)) > 0)

      const ids = (xs: string[]) => sql.join(xs)
      await age(app, 'notifications', DAYS + 1, sql`id <> ${young}`)
      await age(app, 'events', DAYS + 1)
      await age(app, 'audit_events', DAYS + 1)
      await age(app, 'idempotency_keys', 3, sql`key = 'key-old'`)
      const events = await count(app, 'events')
      const openEvents = await count(
        app,
        'events',
        sql`exists (select 1 from deliveries d where d.event_id = events.id and d.status = 'queued')`,
      )
      const audit = await count(app, 'audit_events')
      assert.ok(openEvents > 0 && events > openEvents)

      const turn = await pruneTurn(deps(app))
      assert.equal(await count(app, 'notifications', sql`id in (${ids(oldOnes)})`), 0, 'old, delivered: pruned')
      assert.equal(
        await count(app, 'deliveries', sql`notification_id in (${ids(oldOnes)})`),
        0,
        'their deliveries with them',
      )
      assert.equal(await count(app, 'notifications', sql`id = ${young}`), 1, 'young: kept')
      assert.equal(await count(app, 'deliveries', sql`notification_id = ${young}`), 1)
      assert.equal(await count(app, 'notifications', sql`id = ${inFlight}`), 1, 'old but queued: kept')
      assert.equal(await count(app, 'deliveries', sql`notification_id = ${inFlight} and status = 'queued'`), 1)
      assert.equal(await count(app, 'events'), openEvents, 'old events: only those still in flight are left')
      assert.equal(await count(app, 'deliveries', sql`channel = 'webhook' and status <> 'queued'`), 0)
      assert.deepEqual(
        (await app.handle.db.selectFrom('idempotency_keys').select('key').execute()).map((k) => k.key),
        ['key-young'],
      )
      assert.equal(await count(app, 'audit_events'), audit, 'audit events: kept without AUDIT_RETENTION_DAYS')
      // system mail to the new primary contact counts among the notifications
      assert.ok(turn.notifications >= oldOnes.length)
      assert.equal(turn.events, events - openEvents)
      assert.equal(turn.idempotencyKeys, 1)
      assert.equal(turn.auditEvents, 0)
      assert.equal(turn.more, false)

      // once sent, the old in-flight ones go with the next turn
      await drain()
      const later = await pruneTurn(deps(app))
      assert.equal(await count(app, 'notifications', sql`id = ${inFlight}`), 0)
      assert.equal(later.events, openEvents)
      assert.equal(await count(app, 'notifications', sql`id = ${young}`), 1)
    })

    test('audit events are pruned only with AUDIT_RETENTION_DAYS, by their own age', async (t) => {
      const { app, accountId, users } = await history(t, kind)
      await age(app, 'audit_events', 100)
      const old = await count(app, 'audit_events')
      await setPrimary(app, accountId, users.member!)
      const all = await count(app, 'audit_events')
      assert.ok(old > 0 && all > old)

      assert.equal((await pruneTurn(deps(app))).auditEvents, 0)
      assert.equal((await pruneTurn(deps(app, 101))).auditEvents, 0, '100 days old, kept 101 days')
      assert.equal((await pruneTurn(deps(app, 90))).auditEvents, old)
      assert.equal(await count(app, 'audit_events'), all - old)
      const res = await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/audit-events` })
      assert.equal(res.json().data.length, all - old, 'the API lists what is left')
    })

    test('reports of bounces and deliveries go after RETENTION_DAYS, by when they came in', async (t) => {
      const { app, accountId } = await history(t, kind)
      const report = (id: string, daysAgo: number) =>
        sql`
        insert into mail_events (source, event_id, account_id, delivery_id, kind, recipient, diagnostic, at, received_at)
        values ('sendgrid', ${id}, ${accountId}, 'd', 'delivered', 'a@example.com', '',
          now() - make_interval(days => ${daysAgo}), now() - make_interval(days => ${daysAgo}))`.execute(app.handle.db)
      await report('old', DAYS + 1)
      await report('young', DAYS - 1)
      assert.equal((await pruneTurn(deps(app))).mailEvents, 1)
      assert.deepEqual(
        (await sql<{ event_id: string }>`select event_id from mail_events`.execute(app.handle.db)).rows,
        [{ event_id: 'young' }],
      )
    })

    test('correction requests go RETENTION_DAYS after they were dismissed; open ones stay, whatever their age', async (t) => {
      const { app, accountId } = await history(t, kind)
      const request = (id: string, dismissedDaysAgo: number | null) =>
        sql`
        insert into correction_requests (account_id, id, delivery_id, category, subject, email, slots, reason, status, created_at, dismissed_at)
        values (${accountId}, ${id}, ${`dlv-${id}`}, 'invoice', 'Invoice', 'a@example.com', '{billing}', 'not_me',
          ${dismissedDaysAgo === null ? 'open' : 'dismissed'}, now() - make_interval(days => ${DAYS + 50}),
          ${dismissedDaysAgo === null ? null : sql`now() - make_interval(days => ${dismissedDaysAgo})`})`.execute(
          app.handle.db,
        )
      await request('dismissed-long-ago', DAYS + 1)
      await request('dismissed-lately', DAYS - 1)
      await request('open', null)
      assert.equal((await pruneTurn(deps(app))).correctionRequests, 1)
      assert.deepEqual(
        (await sql<{ id: string }>`select id from correction_requests order by id`.execute(app.handle.db)).rows,
        [{ id: 'dismissed-lately' }, { id: 'open' }],
      )
    })

    test('soft-bounce lock rows go once their last report is older than SOFT_BOUNCE_DAYS; no count changes', async (t) => {
      const { app, accountId } = await history(t, kind)
      const db = app.services.db
      const [quiet, recent] = ['quiet@example.com', 'recent@example.com']
      await lockAddresses(db, [
        { accountId, email: quiet },
        { accountId, email: recent },
      ])
      const softBounce = (id: string, email: string, daysAgo: number) =>
        sql`
        insert into mail_events (source, event_id, account_id, delivery_id, kind, recipient, diagnostic, at, received_at)
        values ('sendgrid', ${id}, ${accountId}, 'd', 'soft_bounce', ${email}, '452 mailbox full',
          now() - make_interval(days => ${daysAgo}), now() - make_interval(days => ${daysAgo}))`.execute(app.handle.db)
      await softBounce('q1', quiet, SOFT_BOUNCE_DAYS + 1)
      await softBounce('r1', recent, 1)
      await sql`update soft_bounce_addresses set last_report_at = now() - make_interval(days => ${SOFT_BOUNCE_DAYS + 1})
        where email = ${quiet}`.execute(app.handle.db)
      const counts = async () => [
        await countSoftBounces(db, accountId, quiet, SOFT_BOUNCE_DAYS),
        await countSoftBounces(db, accountId, recent, SOFT_BOUNCE_DAYS),
      ]
      const before = await counts()

      assert.equal((await pruneTurn(deps(app))).softBounceAddresses, 1)
      assert.deepEqual(
        (await sql<{ email: string }>`select email from soft_bounce_addresses`.execute(app.handle.db)).rows,
        [{ email: recent }],
      )
      assert.deepEqual(await counts(), before, 'the counts read mail_events, not the lock rows')
      // the next soft bounce of the address makes its row again
      await lockAddresses(db, [{ accountId, email: quiet }])
      assert.equal(await count(app, 'soft_bounce_addresses'), 2)
      assert.equal((await pruneTurn(deps(app))).softBounceAddresses, 0)
    })

    test('a turn is bounded: what it cannot take is left for the next turns', async (t) => {
      const { app, drain, accountId } = await history(t, kind)
      for (let i = 0; i < 21; i++) await notify(app, accountId, `Notice ${i}`)
      await drain()
      await age(app, 'notifications', DAYS + 1)
      const total = await count(app, 'notifications')
      assert.ok(total >= 21)

      const bound = { batchRows: 4, batchesPerTurn: 2 }
      const first = await pruneTurn(deps(app), bound)
      assert.equal(first.notifications, 8)
      assert.equal(first.more, true)
      assert.equal(await count(app, 'notifications'), total - 8)
      let left = total - 8
      let turns = 1
      for (;;) {
        const next = await pruneTurn(deps(app), bound)
        turns++
        assert.ok(next.notifications <= 8)
        left -= next.notifications
        assert.equal(await count(app, 'notifications'), left)
        if (!next.more) break
      }
      assert.equal(left, 0)
      assert.equal(turns, Math.floor(total / 8) + 1)
      assert.equal(await count(app, 'deliveries', sql`channel = 'email'`), 0)
    })

    test('a backlog is pruned turn after turn from where the last stopped; once caught up the oldest rows are looked at again', async (t) => {
      const { app, drain, accountId } = await history(t, kind)
      for (let i = 0; i < 9; i++) await notify(app, accountId, `Notice ${i}`)
      await drain()
      const late = await notify(app, accountId, 'Oldest, sent late')
      await age(app, 'notifications', DAYS + 1)
      await age(app, 'notifications', 10, sql`id = ${late}`)
      const total = await count(app, 'notifications')

      const prune = createPruner(deps(app), { batchRows: 2, batchesPerTurn: 1 })
      const first = await prune()
      assert.equal(first.notifications, 2)
      assert.equal(first.more, true)
      // sent while the backlog is pruned: the turns carry on past it
      await drain()
      let pruned = first.notifications
      for (let turn = await prune(); ; turn = await prune()) {
        pruned += turn.notifications
        if (!turn.more) break
      }
      assert.equal(pruned, total - 1)
      assert.equal(await count(app, 'notifications', sql`id = ${late}`), 1)
      // caught up: the next turn starts from the oldest again
      assert.equal((await prune()).notifications, 1)
      assert.equal(await count(app, 'notifications', sql`id = ${late}`), 0)
    })

    test('pruning while a delivery of an old notification is being sent leaves it alone; the mail is delivered and settled', async (t) => {
      const { app, sink, drain, accountId } = await history(t, kind)
      await notify(app, accountId, 'Sent before')
      await drain()
      const id = await notify(app, accountId, 'Sent while pruning')
      await age(app, 'notifications', DAYS + 1)
      await age(app, 'events', DAYS + 1)

      // a real worker whose SMTP transport waits at a gate, so the delivery stays 'sending'
      const smtp = createSmtpTransport({ url: sink.url, pool: false })
      t.after(() => smtp.close())
      let reached = () => {}
      const atGate = new Promise<void>((r) => (reached = r))
      let open = () => {}
      const gate = new Promise<void>((r) => (open = r))
      const gated: EmailTransport = {
        send: async (m) => {
          reached()
          await gate
          return smtp.send(m)
        },
        close: () => smtp.close(),
      }
      const worker = createWorker({
        db: app.services.db,
        email: gated,
        webhook: createWebhookTransport({ allowPrivate: true, timeoutMs: 2000 }),
        secrets: app.services.secrets,
        bounces: app.services.bounces,
        log: { info() {}, warn() {}, error() {} },
        options: {
          batchSize: 20,
          leaseSeconds: 30,
          pollMs: 20,
          backoffBaseSeconds: 0.05,
          messageIdHost: 'contacts.test',
          publicUrl: 'https://contacts.test',
          mailFrom: 'Contacts <contacts@saas.test>',
        },
      })
      const received = sink.received()
      const sending = worker.runOnce()
      await atGate
      assert.equal(await count(app, 'deliveries', sql`notification_id = ${id} and status = 'sending'`), 1)

      const during = await pruneTurn(deps(app))
      assert.equal(await count(app, 'notifications', sql`id = ${id}`), 1, 'its notification stays while it is sent')
      assert.ok(during.notifications > 0, 'older notifications, all delivered, went meanwhile')

      open()
      assert.equal(await sending, 1)
      await sink.waitFor(received + 1)
      assert.equal(sink.messages.at(-1)!.subject, 'Sent while pruning')
      assert.equal(await count(app, 'deliveries', sql`notification_id = ${id} and status = 'delivered'`), 1)
      // settling raised the outcome event, young, so it stays; the notification goes next turn
      assert.equal(
        await count(app, 'events', sql`type = 'notification.delivered' and payload->'data'->>'notificationId' = ${id}`),
        1,
      )
      await drain()
      await pruneTurn(deps(app))
      assert.equal(await count(app, 'notifications', sql`id = ${id}`), 0)
    })

    test('the chore runs a turn when due, then rests; with vacuum (PGlite) it vacuums the pruned tables once the backlog is done', async (t) => {
      const { app, drain, accountId } = await history(t, kind)
      await notify(app, accountId, 'First')
      await drain()
      await age(app, 'notifications', DAYS + 1)
      const logged: object[] = []
      const chore = retentionChore({ ...deps(app), vacuum: true }, { info: (o) => logged.push(o) })
      await chore()
      assert.equal(await count(app, 'notifications'), 0)
      const vacuumed = await sql<{
        at: Date | null
      }>`select last_vacuum as at from pg_stat_user_tables where relname = 'notifications'`.execute(app.handle.db)
      assert.ok(vacuumed.rows[0]?.at, 'notifications vacuumed')
      assert.equal(logged.length, 2, 'one line for the turn, one for the vacuum')

      await notify(app, accountId, 'Second')
      await drain()
      await age(app, 'notifications', DAYS + 1)
      await chore()
      assert.equal(await count(app, 'notifications'), 1, 'not due again within the pause')
    })

    test('two workers pruning at once share the work: every old row goes once, without errors or waits', async (t) => {
      const { app, drain, accountId } = await history(t, kind)
      for (let i = 0; i < 30; i++) await notify(app, accountId, `Notice ${i}`)
      await drain()
      await age(app, 'notifications', DAYS + 1)
      const total = await count(app, 'notifications')
      const bound = { batchRows: 3, batchesPerTurn: 50 }
      const [a, b] = await Promise.all([pruneTurn(deps(app), bound), pruneTurn(deps(app), bound)])
      assert.equal(a.notifications + b.notifications, total)
      assert.equal(await count(app, 'notifications'), 0)
      assert.equal(await count(app, 'deliveries', sql`channel = 'email'`), 0)
    })
  })
}

describe('retention configuration', () => {
  test('RETENTION_DAYS defaults to 400 and must cover the health check; AUDIT_RETENTION_DAYS unset keeps audit events', () => {
    const c = loadConfig({})
    assert.equal(c.retentionDays, 400)
    assert.equal(c.auditRetentionDays, undefined)
    assert.equal(loadConfig({ RETENTION_DAYS: '90', AUDIT_RETENTION_DAYS: '3650' }).auditRetentionDays, 3650)
    assert.throws(() => loadConfig({ RETENTION_DAYS: '7' }), /RETENTION_DAYS is not valid: expected .*at least 30/)
    assert.throws(() => loadConfig({ AUDIT_RETENTION_DAYS: 'forever' }), /AUDIT_RETENTION_DAYS is not valid/)
  })
})
