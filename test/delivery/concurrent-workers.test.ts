import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { sql } from 'kysely'

import { connectPostgres } from '../../src/db/connect.ts'
import { createSmtpTransport } from '../../src/delivery/transports/smtp.transport.ts'
import { createWebhookTransport } from '../../src/delivery/transports/webhook.transport.ts'
import { createWorker } from '../../src/delivery/worker.ts'
import { buildTestApp } from '../helpers/build-test-app.ts'
import { PG_OPTIONS } from '../helpers/databases.ts'
import { startSmtpSink } from '../peers/smtp-sink.ts'

const skip = process.env.DATABASE_URL
  ? false
  : 'needs DATABASE_URL (PostgreSQL): PGlite has one connection, so its workers cannot overlap'
const quiet = { info() {}, warn() {}, error() {} }

describe('[postgres] several workers at once', { skip }, () => {
  test('four workers, each with its own connection pool, deliver 600 mails exactly once between them', async (t) => {
    const app = await buildTestApp(t, 'postgres')
    const db = app.handle.db
    // 150 accounts, each with a super admin as primary and three billing contacts: 600 deliveries
    await sql`insert into accounts (id, name) select 'w' || i, 'Workers ' || i from generate_series(1, 150) i`.execute(
      db,
    )
    await sql`insert into users (account_id, id, email, name, role, status)
      select 'w' || i, 'u' || j, 'u' || j || '.w' || i || '@example.com', 'User ' || j, case when j = 0 then 'super_admin' else 'billing_admin' end, 'active'
      from generate_series(1, 150) i, generate_series(0, 3) j`.execute(db)
    await sql`insert into contact_slots (account_id, slot, position, user_id, user_status)
      select 'w' || i, case when j = 0 then 'primary' else 'billing' end, greatest(j - 1, 0), 'u' || j, 'active'
      from generate_series(1, 150) i, generate_series(0, 3) j`.execute(db)
    const b = await app.call({
      method: 'POST',
      url: '/v1/broadcasts',
      payload: { category: 'invoice', subject: 'Four workers', text: 'x' },
    })
    while (await app.services.broadcasts.processBatch()) {
      // one batch a turn, until none is left
    }
    const count = await sql<{ n: number }>`select count(*)::int as n from deliveries`.execute(db)
    assert.equal(count.rows[0]!.n, 600, b.body)

    const sink = await startSmtpSink()
    t.after(() => sink.close())
    const workers = Array.from({ length: 4 }, () => {
      const handle = connectPostgres(app.handle.url!, { ...PG_OPTIONS, max: 4 })
      const email = createSmtpTransport({ url: sink.url, pool: false })
      t.after(async () => {
        await email.close()
        await handle.close()
      })
      return createWorker({
        db: handle.db,
        email,
        webhook: createWebhookTransport({ allowPrivate: true }),
        secrets: app.services.secrets,
        bounces: app.services.bounces,
        log: quiet,
        options: {
          batchSize: 10,
          leaseSeconds: 60,
          pollMs: 10,
          backoffBaseSeconds: 1,
          messageIdHost: 'contacts.test',
          publicUrl: 'https://contacts.test',
          mailFrom: 'c@saas.test',
        },
      })
    })
    const settled = [0, 0, 0, 0]
    await Promise.all(
      workers.map(async (w, i) => {
        for (;;) {
          const n = await w.runOnce()
          if (n === 0) break
          settled[i]! += n
        }
      }),
    )
    const ids = sink.messages.map((m) => m.messageId)
    assert.equal(ids.length, 600, 'no delivery was sent twice')
    assert.equal(new Set(ids).size, 600)
    assert.equal(
      settled.reduce((a, b) => a + b, 0),
      600,
    )
    assert.ok(settled.filter((n) => n > 0).length >= 2, `the work was shared: ${settled.join(', ')}`)
    const open = await sql<{
      n: number
    }>`select count(*)::int as n from deliveries where status <> 'delivered'`.execute(db)
    assert.equal(open.rows[0]!.n, 0)
    t.diagnostic(`deliveries settled per worker: ${settled.join(', ')}`)
  })
})
