import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { sql } from 'kysely'

import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { type MadeAccount, makeAccount } from '../helpers/factories.ts'
import { appWithMail } from '../helpers/test-worker.ts'
import type { SmtpSink } from '../peers/smtp-sink.ts'

interface Broadcast {
  id: string
  status: 'running' | 'done'
  total: number
  processed: number
  notifications: number
  undeliverable: number
  progress: number
  finishedAt: string | null
}

const emailOf = (userId: string) => `${userId}@example.com`

const receivedBy = (sink: SmtpSink, subject: string) =>
  sink.messages
    .filter((m) => m.subject === subject)
    .flatMap((m) =>
      (Array.isArray(m.to) ? m.to : m.to ? [m.to] : []).flatMap((a) => a.value.map((v) => v.address!.toLowerCase())),
    )
    .sort()

async function startBroadcast(
  app: TestApp,
  payload: { subject: string; accountIds?: string[]; category?: string },
): Promise<Broadcast> {
  const res = await app.call({
    method: 'POST',
    url: '/v1/broadcasts',
    payload: { category: 'account_update', text: `${payload.subject}.`, ...payload },
  })
  assert.equal(res.statusCode, 202, res.body)
  return res.json()
}

async function getBroadcast(app: TestApp, id: string): Promise<Broadcast> {
  const res = await app.call({ method: 'GET', url: `/v1/broadcasts/${id}` })
  assert.equal(res.statusCode, 200, res.body)
  return res.json()
}

/** Notifications and email deliveries of one broadcast, straight from the database. */
async function stored(app: TestApp, broadcastId: string) {
  const n = await sql<{ notifications: number; accounts: number; undeliverable: number }>`
    select count(*)::int as notifications, count(distinct account_id)::int as accounts,
      count(*) filter (where status = 'undeliverable')::int as undeliverable
    from notifications where broadcast_id = ${broadcastId}`.execute(app.handle.db)
  const d = await sql<{ deliveries: number }>`
    select count(*)::int as deliveries
    from deliveries d join notifications n on n.account_id = d.account_id and n.id = d.notification_id
    where n.broadcast_id = ${broadcastId}`.execute(app.handle.db)
  return { ...n.rows[0]!, ...d.rows[0]! }
}

async function accountsWithPrimary(app: TestApp, count: number): Promise<MadeAccount[]> {
  const out: MadeAccount[] = []
  for (let i = 0; i < count; i++) {
    const a = await makeAccount(app)
    const res = await app.call({
      method: 'PUT',
      url: `/v1/accounts/${a.accountId}/contacts/primary`,
      payload: { userId: a.users.member },
    })
    assert.equal(res.statusCode, 200, res.body)
    out.push(a)
  }
  return out
}

for (const kind of DATABASES) {
  describe(`[${kind}] broadcasts`, () => {
    test('a broadcast to every account reaches each primary contact exactly once', async (t) => {
      const { app, sink, drain } = await appWithMail(t, kind)
      const accounts = await accountsWithPrimary(app, 5)

      const started = await startBroadcast(app, { subject: 'Scheduled maintenance' })
      assert.equal(started.total, 5)
      assert.equal(started.status, 'running')
      assert.equal(started.processed, 0)
      await drain()

      const done = await getBroadcast(app, started.id)
      assert.equal(done.status, 'done')
      assert.equal(done.processed, done.total)
      assert.equal(done.total, 5)
      assert.equal(done.notifications, 5)
      assert.equal(done.undeliverable, 0)
      assert.equal(done.progress, 1)
      assert.ok(done.finishedAt)
      assert.deepEqual(receivedBy(sink, 'Scheduled maintenance'), accounts.map((a) => emailOf(a.users.member!)).sort())

      // each account's notification is one of the broadcast's
      const list = (
        await app.call({ method: 'GET', url: `/v1/accounts/${accounts[0]!.accountId}/notifications` })
      ).json()
      const mine = list.data.filter((n: { broadcastId: string | null }) => n.broadcastId === started.id)
      assert.equal(mine.length, 1)
      const one = await app.call({
        method: 'GET',
        url: `/v1/accounts/${accounts[0]!.accountId}/notifications/${mine[0].id}`,
      })
      assert.equal(one.statusCode, 200, one.body)
      assert.equal(one.json().status, 'delivered')

      // done is done: another batch finds no work and changes nothing
      const before = await stored(app, started.id)
      assert.equal(await app.services.broadcasts.processBatch(), false)
      assert.deepEqual(await getBroadcast(app, started.id), done)
      assert.deepEqual(await stored(app, started.id), before)
      assert.deepEqual(before, { notifications: 5, accounts: 5, undeliverable: 0, deliveries: 5 })
      await drain()
      assert.equal(receivedBy(sink, 'Scheduled maintenance').length, 5)
    })

    test('a broadcast with accountIds reaches only those accounts', async (t) => {
      const { app, sink, drain } = await appWithMail(t, kind)
      const accounts = await accountsWithPrimary(app, 5)
      const chosen = [accounts[1]!, accounts[3]!]

      const started = await startBroadcast(app, {
        subject: 'Only for two',
        accountIds: [...chosen.map((a) => a.accountId), 'no-such-account'],
      })
      assert.equal(started.total, 2, 'an unknown id is not counted')
      await drain()

      const done = await getBroadcast(app, started.id)
      assert.equal(done.status, 'done')
      assert.equal(done.processed, 2)
      assert.equal(done.notifications, 2)
      assert.deepEqual(receivedBy(sink, 'Only for two'), chosen.map((a) => emailOf(a.users.member!)).sort())
    })

    test('an account with no contact and no super admin counts as undeliverable; one without a primary reaches its super admins', async (t) => {
      const { app, sink, drain } = await appWithMail(t, kind)
      const [withPrimary] = await accountsWithPrimary(app, 1)
      const adminsOnly = await makeAccount(app)
      const nobody = await makeAccount(app)
      const demoted = await app.call({
        method: 'PATCH',
        url: `/v1/accounts/${nobody.accountId}/users/${nobody.users.admin}`,
        payload: { role: 'member' },
      })
      assert.equal(demoted.statusCode, 200, demoted.body)

      const started = await startBroadcast(app, { subject: 'Price change' })
      assert.equal(started.total, 3)
      await drain()

      const done = await getBroadcast(app, started.id)
      assert.equal(done.status, 'done')
      assert.equal(done.processed, 3)
      assert.equal(done.notifications, 2)
      assert.equal(done.undeliverable, 1)
      assert.deepEqual(
        receivedBy(sink, 'Price change'),
        [emailOf(withPrimary!.users.member!), emailOf(adminsOnly.users.admin!)].sort(),
      )
      const s = await stored(app, started.id)
      assert.equal(s.undeliverable, 1)
      const health = (await app.call({ method: 'GET', url: `/v1/accounts/${nobody.accountId}/health` })).json()
      assert.ok(
        health.problems.some((p: { code: string }) => p.code === 'undeliverable-notifications'),
        JSON.stringify(health),
      )
    })

    test('fanned out in batches, with progress after each; a batch repeated after a crash inserts nothing', async (t) => {
      const app = await buildTestApp(t, kind)
      await accountsWithPrimary(app, 5)
      const started = await startBroadcast(app, { subject: 'In batches' })

      const seen: number[] = []
      while (await app.services.broadcasts.processBatch(2)) {
        const b = await getBroadcast(app, started.id)
        seen.push(b.processed)
        if (b.status === 'running') assert.ok(b.progress < 1)
      }
      assert.deepEqual(seen, [2, 4, 5])
      const done = await getBroadcast(app, started.id)
      assert.equal(done.status, 'done')

      // a worker that died after committing a batch but, say, before anyone saw it: roll the cursor
      // back and run everything again; the deterministic ids insert nothing twice
      await sql`update broadcasts set status = 'running', cursor = null, processed = 0, notifications = 0, undeliverable = 0, finished_at = null
        where id = ${started.id}`.execute(app.handle.db)
      while (await app.services.broadcasts.processBatch(2));
      const again = await getBroadcast(app, started.id)
      assert.equal(again.status, 'done')
      assert.equal(again.processed, 5)
      assert.equal(again.notifications, 0, 'nothing new was queued')
      assert.deepEqual(await stored(app, started.id), {
        notifications: 5,
        accounts: 5,
        undeliverable: 0,
        deliveries: 5,
      })
    })
  })
}

const ACCOUNTS = 100_000

test(
  `[postgres] a broadcast to ${ACCOUNTS} accounts is fanned out in the database, with progress visible while it runs`,
  {
    skip: process.env.DATABASE_URL ? false : 'needs PostgreSQL: set DATABASE_URL to run the 100,000-account broadcast',
  },
  async (t) => {
    const app = await buildTestApp(t, 'postgres')
    const db = app.handle.db
    const seeded = performance.now()
    // Each account: a super admin who is the primary contact, a billing admin who is the billing contact, and a member.
    await sql`
      insert into accounts (id, name, locale, contacts_reviewed_at)
      select 'bulk-' || lpad(i::text, 6, '0'), 'Bulk customer ' || i, case when i % 5 = 0 then 'fi' else 'en' end, now()
      from generate_series(1, ${ACCOUNTS}) i`.execute(db)
    await sql`
      insert into users (account_id, id, email, name, role, status)
      select a.id, u.id, u.id || '.' || a.id || '@bulk.example', initcap(u.id) || ' of ' || a.id, u.role, 'active'
      from accounts a
      cross join (values ('owner', 'super_admin'), ('payer', 'billing_admin'), ('staff', 'member')) u (id, role)
      where a.id like 'bulk-%'`.execute(db)
    await sql`
      insert into contact_slots (account_id, slot, position, user_id, user_status)
      select a.id, s.slot, 0, s.user_id, 'active'
      from accounts a
      cross join (values ('primary', 'owner'), ('billing', 'payer')) s (slot, user_id)
      where a.id like 'bulk-%'`.execute(db)
    await sql`analyze`.execute(db)
    t.diagnostic(`seeded ${ACCOUNTS} accounts in ${((performance.now() - seeded) / 1000).toFixed(1)} s`)

    // `subscription` goes to the primary and the billing contacts (docs/PRODUCT.md, "Routing: who receives what"): two deliveries per account
    const started = await startBroadcast(app, {
      subject: 'Your subscription terms are changing',
      category: 'subscription',
    })
    assert.equal(started.total, ACCOUNTS)
    assert.equal(started.status, 'running')

    const t0 = performance.now()
    const batchMs: number[] = []
    const readings: Broadcast[] = []
    for (;;) {
      const b0 = performance.now()
      const worked = await app.services.broadcasts.processBatch()
      if (!worked) break
      batchMs.push(performance.now() - b0)
      readings.push(await getBroadcast(app, started.id))
    }
    const seconds = (performance.now() - t0) / 1000

    const sorted = [...batchMs].sort((a, b) => a - b)
    const line =
      `broadcast to ${ACCOUNTS} accounts on PostgreSQL: fan-out took ${seconds.toFixed(1)} s ` +
      `(${batchMs.length} batches; per batch min ${sorted[0]!.toFixed(0)} ms, median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms, ` +
      `max ${sorted.at(-1)!.toFixed(0)} ms)`
    console.log(line)
    t.diagnostic(line)

    // progress is visible before the end and never goes back
    const running = readings.filter((r) => r.status === 'running')
    assert.ok(running.length > 0, 'progress was seen while the broadcast ran')
    assert.ok(
      running.some((r) => r.processed > 0 && r.processed < ACCOUNTS),
      'a partial count was seen',
    )
    for (let i = 1; i < readings.length; i++) {
      const [prev, cur] = [readings[i - 1]!, readings[i]!]
      assert.ok(cur.processed >= prev.processed, `processed went back: ${prev.processed} → ${cur.processed}`)
      assert.ok(cur.progress >= prev.progress)
      if (prev.status === 'running' && cur.processed === prev.processed) {
        // only the last call, which finds no more accounts, may leave the count where it was
        assert.equal(cur.status, 'done')
      }
      if (prev.status === 'done') assert.fail('a batch ran after the broadcast was done')
    }

    const done = await getBroadcast(app, started.id)
    assert.equal(done.status, 'done')
    assert.equal(done.processed, ACCOUNTS)
    assert.equal(done.notifications, ACCOUNTS)
    assert.equal(done.undeliverable, 0)
    assert.equal(done.progress, 1)

    const s = await stored(app, started.id)
    assert.equal(s.notifications, ACCOUNTS)
    assert.equal(s.accounts, s.notifications, 'one notification per account')
    assert.equal(s.deliveries, 2 * ACCOUNTS, 'primary + billing, each once')
    const perAccount = await sql<{ n: number }>`
      select count(*)::int as n from (
        select d.account_id from deliveries d join notifications n on n.account_id = d.account_id and n.id = d.notification_id
        where n.broadcast_id = ${started.id} group by d.account_id having count(*) <> 2 or count(distinct lower(d.recipient)) <> 2
      ) x`.execute(db)
    assert.equal(perAccount.rows[0]!.n, 0, 'every account has exactly its two contacts as deliveries')
    // and nothing was sent: the deliveries wait for the workers
    const open = await sql<{ n: number }>`select count(*)::int as n from deliveries where status = 'queued'`.execute(db)
    assert.equal(open.rows[0]!.n, 2 * ACCOUNTS)

    // a cancel now stops all of that mail, in batches of 10,000 accounts (CANCEL_BATCH), each its own transaction
    const c0 = performance.now()
    const res = await app.call({ method: 'POST', url: `/v1/broadcasts/${started.id}/cancel` })
    const cancelMs = performance.now() - c0
    assert.equal(res.statusCode, 200, res.body)
    assert.equal(res.json().status, 'cancelled')
    assert.equal(res.json().cancelledDeliveries, 2 * ACCOUNTS)
    const left = await sql<{
      n: number
    }>`select count(*)::int as n from deliveries where status <> 'cancelled'`.execute(db)
    assert.equal(left.rows[0]!.n, 0)
    const cancelLine = `cancelling it (${2 * ACCOUNTS} queued mails) took ${(cancelMs / 1000).toFixed(1)} s`
    console.log(cancelLine)
    t.diagnostic(cancelLine)
  },
)
