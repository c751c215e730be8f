import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { sql } from 'kysely'

import { createBroadcastService } from '../../src/broadcasts/broadcasts.service.ts'
import { connectPostgres } from '../../src/db/connect.ts'
import { claimDeliveries, settleFailed } from '../../src/delivery/deliveries.repository.ts'
import type { RequestContext } from '../../src/lib/actor.ts'
import { deliveriesOf, getBroadcast, seedAccountsWithPrimary, startBroadcast } from '../helpers/broadcast-fixtures.ts'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { DATABASES, PG_OPTIONS } from '../helpers/databases.ts'
import { makeAccount, sessionFor } from '../helpers/factories.ts'
import { appWithMail } from '../helpers/test-worker.ts'
import type { SmtpSink } from '../peers/smtp-sink.ts'

const cancel = (app: TestApp, id: string, token?: string) =>
  app.call({ method: 'POST', url: `/v1/broadcasts/${id}/cancel`, ...(token ? { token } : {}) })
const mailsWith = (sink: SmtpSink, subject: string) => sink.messages.filter((m) => m.subject === subject).length
const notificationsOf = async (app: TestApp, id: string) =>
  (
    await sql<{ n: number }>`select count(*)::int as n from notifications where broadcast_id = ${id}`.execute(
      app.handle.db,
    )
  ).rows[0]!.n

for (const kind of DATABASES) {
  describe(`[${kind}] cancelling a broadcast`, () => {
    test('a cancel stops the fan-out and the mail of the accounts already fanned out; a second cancel answers the same', async (t) => {
      const { app, sink, drain } = await appWithMail(t, kind)
      await seedAccountsWithPrimary(app.handle.db, 'cx', 6)
      const started = await startBroadcast(app, { subject: 'Stop me' })
      assert.equal(started.total, 6)
      // one batch of two accounts fanned out: two notifications, their mail queued, not yet sent
      assert.equal(await app.services.broadcasts.processBatch(2), true)
      assert.deepEqual(await deliveriesOf(app.handle.db, started.id), { queued: 2 })

      const res = await cancel(app, started.id)
      assert.equal(res.statusCode, 200, res.body)
      const cancelled = res.json()
      assert.equal(cancelled.status, 'cancelled')
      assert.equal(cancelled.processed, 2)
      assert.equal(cancelled.cancelledDeliveries, 2)
      assert.ok(cancelled.cancelledAt && cancelled.finishedAt, res.body)

      // no further batch, and nothing of it is sent
      assert.equal(await app.services.broadcasts.processBatch(2), false)
      await drain()
      assert.equal(mailsWith(sink, 'Stop me'), 0)
      assert.equal(await notificationsOf(app, started.id), 2)
      assert.deepEqual(await deliveriesOf(app.handle.db, started.id), { cancelled: 2 })

      // the account's notification says so
      const list = (await app.call({ method: 'GET', url: '/v1/accounts/cx-001/notifications' })).json()
      assert.equal(list.data[0].status, 'cancelled')
      assert.equal(list.data[0].deliveries[0].status, 'cancelled')

      // idempotent: the same state again, and GET agrees
      const again = await cancel(app, started.id)
      assert.equal(again.statusCode, 200, again.body)
      assert.deepEqual(again.json(), cancelled)
      assert.deepEqual(await getBroadcast(app, started.id), cancelled)
    })

    test('a done broadcast whose mail is still queued is cancelled; one with all its mail sent answers done, unchanged', async (t) => {
      const { app, sink, drain } = await appWithMail(t, kind)
      await seedAccountsWithPrimary(app.handle.db, 'dn', 3)

      const queued = await startBroadcast(app, { subject: 'Fanned out, not sent' })
      while (await app.services.broadcasts.processBatch());
      assert.equal((await getBroadcast(app, queued.id)).status, 'done')
      const res = await cancel(app, queued.id)
      assert.equal(res.statusCode, 200, res.body)
      assert.equal(res.json().status, 'cancelled')
      assert.equal(res.json().cancelledDeliveries, 3)
      assert.equal(res.json().processed, 3)

      const sent = await startBroadcast(app, { subject: 'All sent' })
      await drain()
      assert.equal(mailsWith(sink, 'All sent'), 3)
      assert.equal(mailsWith(sink, 'Fanned out, not sent'), 0)
      const done = await getBroadcast(app, sent.id)
      assert.equal(done.status, 'done')
      const late = await cancel(app, sent.id)
      assert.equal(late.statusCode, 200, late.body)
      assert.deepEqual(late.json(), done)
    })

    test('mail a worker is sending when the cancel comes goes out, but is not retried after it', async (t) => {
      const app = await buildTestApp(t, kind)
      await seedAccountsWithPrimary(app.handle.db, 'sx', 2)
      const started = await startBroadcast(app, { subject: 'In flight' })
      while (await app.services.broadcasts.processBatch());
      // a worker has taken one of the two mails
      const [taken] = await claimDeliveries(app.handle.db, { limit: 1, leaseSeconds: 60, token: 'worker-1' })
      assert.ok(taken)

      const res = await cancel(app, started.id)
      assert.equal(res.json().cancelledDeliveries, 1, res.body)
      assert.deepEqual(await deliveriesOf(app.handle.db, started.id), { cancelled: 1, sending: 1 })

      // its send failed for now: after the cancel, that is the end of it
      const status = await settleFailed(app.handle.db, taken, 'worker-1', {
        retryable: true,
        detail: '421 try later',
        retryAfterSeconds: 0,
        backoffBaseSeconds: 1,
      })
      assert.equal(status, 'cancelled')
      assert.deepEqual(await deliveriesOf(app.handle.db, started.id), { cancelled: 2 })
    })

    test('mail a worker died while sending is not sent after the cancel: the next claim cancels it', async (t) => {
      const { app, sink, drain } = await appWithMail(t, kind)
      await seedAccountsWithPrimary(app.handle.db, 'dw', 2)
      const started = await startBroadcast(app, { subject: 'Dead worker' })
      while (await app.services.broadcasts.processBatch());
      // a worker took one mail and died before sending it: 'sending', its lease run out
      const dead = await sql<{ id: string }>`
        update deliveries set status = 'sending', attempts = 1, lock_token = 'dead-worker', next_attempt_at = now() - interval '1 minute'
        where id = (select d.id from deliveries d join notifications n on n.account_id = d.account_id and n.id = d.notification_id
                    where n.broadcast_id = ${started.id} order by d.id limit 1)
        returning id`.execute(app.handle.db)
      assert.equal(dead.rows.length, 1)

      const res = await cancel(app, started.id)
      assert.equal(res.json().cancelledDeliveries, 1, res.body)
      assert.deepEqual(await deliveriesOf(app.handle.db, started.id), { cancelled: 1, sending: 1 })

      await drain()
      assert.equal(mailsWith(sink, 'Dead worker'), 0)
      assert.deepEqual(await deliveriesOf(app.handle.db, started.id), { cancelled: 2 })
    })

    test('a cancel works in batches of accounts; the workers send none of its mail before the batches reach it, and a cancel cut off is finished by another', async (t) => {
      const { app, sink, drain } = await appWithMail(t, kind)
      await seedAccountsWithPrimary(app.handle.db, 'cb', 5)
      const started = await startBroadcast(app, { subject: 'Cut off' })
      while (await app.services.broadcasts.processBatch());
      // the cancel's first transaction committed and its process died: marked cancelled, no mail cancelled yet
      await sql`update broadcasts set status = 'cancelled', cancelled_at = now(), cancelled_by = 'system:test' where id = ${started.id}`.execute(
        app.handle.db,
      )
      assert.deepEqual(await deliveriesOf(app.handle.db, started.id), { queued: 5 })
      // a worker claims in between: it cancels them and sends nothing
      const claimed = await claimDeliveries(app.handle.db, { limit: 2, leaseSeconds: 60, token: 'worker-1' })
      assert.deepEqual(claimed, [])
      assert.deepEqual(await deliveriesOf(app.handle.db, started.id), { cancelled: 2, queued: 3 })

      // cancelling again, two accounts per batch, finishes it
      const done = await app.services.broadcasts.cancel(
        { actor: { type: 'system', id: 'test' }, requestId: 'req_test' } satisfies RequestContext,
        started.id,
        2,
      )
      assert.equal(done.status, 'cancelled')
      assert.equal(done.cancelledDeliveries, 3, 'the two the claim cancelled are not counted by the cancel')
      assert.deepEqual(await deliveriesOf(app.handle.db, started.id), { cancelled: 5 })
      await drain()
      assert.equal(mailsWith(sink, 'Cut off'), 0)
    })

    test('cancel needs the platform key, and answers 404 for an unknown broadcast and 400 for a malformed id', async (t) => {
      const app = await buildTestApp(t, kind)
      const a = await makeAccount(app)
      const started = await startBroadcast(app, { subject: 'Only the platform' })

      const asAdmin = await cancel(app, started.id, await sessionFor(app, a.accountId, a.users.admin!))
      assert.equal(asAdmin.statusCode, 403, asAdmin.body)
      assert.equal((await getBroadcast(app, started.id)).status, 'running')

      const unknown = await cancel(app, 'bc_nosuchbroadcast')
      assert.equal(unknown.statusCode, 404, unknown.body)
      assert.equal(unknown.headers['content-type'], 'application/problem+json; charset=utf-8')
      assert.equal(unknown.json().code, 'not-found')
      assert.equal((await cancel(app, 'bad.id')).statusCode, 400)
    })
  })
}

describe(
  '[postgres] a cancel during a batch',
  { skip: process.env.DATABASE_URL ? false : 'needs DATABASE_URL (PostgreSQL): PGlite has one connection' },
  () => {
    test('waits for the batch being fanned out, then cancels its mail too; no batch follows', async (t) => {
      const app = await buildTestApp(t, 'postgres')
      await seedAccountsWithPrimary(app.handle.db, 'rc', 5)
      const started = await startBroadcast(app, { subject: 'Mid-batch' })
      // a worker of its own pool is in the middle of a batch: it holds the broadcast, its rows uncommitted
      const other = connectPostgres(app.handle.url!, { ...PG_OPTIONS, max: 1 })
      t.after(() => other.close())
      const batch = await other.db.startTransaction().execute()
      assert.equal(await createBroadcastService({ db: batch, policy: app.services.policy }).processBatch(2), true)

      let answered = false
      const cancelling = cancel(app, started.id).finally(() => (answered = true))
      // the cancel waits on the broadcast's row lock (seen by the database, not by a timer)
      while (!answered) {
        const waiting = await sql<{ n: number }>`
        select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(
          app.handle.db,
        )
        if (waiting.rows[0]!.n > 0) break
        await new Promise((r) => setImmediate(r))
      }
      await batch.commit().execute()

      const res = await cancelling
      assert.equal(res.statusCode, 200, res.body)
      assert.equal(res.json().processed, 2)
      assert.equal(res.json().cancelledDeliveries, 2, 'the batch committed while the cancel waited is cancelled too')
      assert.deepEqual(await deliveriesOf(app.handle.db, started.id), { cancelled: 2 })
      assert.equal(await app.services.broadcasts.processBatch(2), false)
      assert.equal(await notificationsOf(app, started.id), 2)
    })
  },
)
