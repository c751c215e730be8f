import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { sql } from 'kysely'

import { createBroadcastService } from '../../src/broadcasts/broadcasts.service.ts'
import { connectPostgres } from '../../src/db/connect.ts'
import { getBroadcast, seedAccountsWithPrimary, startBroadcast } from '../helpers/broadcast-fixtures.ts'
import { buildTestApp } from '../helpers/build-test-app.ts'
import { DATABASES, PG_OPTIONS } from '../helpers/databases.ts'

for (const kind of DATABASES) {
  describe(`[${kind}] broadcasts advance in turns`, () => {
    test('a small broadcast started after a large one is fanned out beside it, not after it', async (t) => {
      const app = await buildTestApp(t, kind)
      const all = await seedAccountsWithPrimary(app.handle.db, 'fa', 9)
      const large = await startBroadcast(app, { subject: 'Large' })
      const small = await startBroadcast(app, { subject: 'Small', accountIds: all.slice(0, 3) })

      // each turn is one batch of two accounts; the turns go to the broadcast least recently advanced
      const seen: [number, number][] = []
      for (let turn = 0; turn < 4; turn++) {
        assert.equal(await app.services.broadcasts.processBatch(2), true)
        seen.push([(await getBroadcast(app, large.id)).processed, (await getBroadcast(app, small.id)).processed])
      }
      assert.deepEqual(seen, [
        [2, 0],
        [2, 2],
        [4, 2],
        [4, 3],
      ])
      assert.equal((await getBroadcast(app, small.id)).status, 'done')

      // the large one goes on alone and completes
      while (await app.services.broadcasts.processBatch(2));
      const done = await getBroadcast(app, large.id)
      assert.equal(done.status, 'done')
      assert.equal(done.processed, 9)
      assert.equal(done.notifications, 9)
    })
  })
}

describe(
  '[postgres] two workers fanning out two broadcasts',
  { skip: process.env.DATABASE_URL ? false : 'needs DATABASE_URL (PostgreSQL): PGlite has one connection' },
  () => {
    test('both broadcasts progress from the first round, and every account gets one notification of each', async (t) => {
      const app = await buildTestApp(t, 'postgres')
      const all = await seedAccountsWithPrimary(app.handle.db, 'tw', 40)
      const large = await startBroadcast(app, { subject: 'Large' })
      const small = await startBroadcast(app, { subject: 'Small', accountIds: all.slice(0, 6) })
      // two workers, each its own pool, as two worker processes would be
      const workers = Array.from({ length: 2 }, () => {
        const handle = connectPostgres(app.handle.url!, { ...PG_OPTIONS, max: 2 })
        t.after(() => handle.close())
        return createBroadcastService({ db: handle.db, policy: app.services.policy })
      })

      const turn = () => Promise.all(workers.map((w) => w.processBatch(2)))
      await turn()
      await turn()
      const [l, s] = [await getBroadcast(app, large.id), await getBroadcast(app, small.id)]
      assert.equal(l.processed + s.processed, 8, 'four batches of two')
      assert.ok(l.processed >= 2 && s.processed >= 2, `both advanced: large ${l.processed}, small ${s.processed}`)

      for (;;) {
        const worked = await turn()
        if (!worked.some(Boolean)) break
      }
      for (const [b, n] of [
        [large, 40],
        [small, 6],
      ] as const) {
        const done = await getBroadcast(app, b.id)
        assert.equal(done.status, 'done')
        assert.equal(done.processed, n)
        assert.equal(done.notifications, n)
        const rows = await sql<{ n: number; accounts: number }>`
        select count(*)::int as n, count(distinct account_id)::int as accounts from notifications where broadcast_id = ${b.id}`.execute(
          app.handle.db,
        )
        assert.deepEqual(rows.rows[0], { n, accounts: n })
      }
    })
  },
)
