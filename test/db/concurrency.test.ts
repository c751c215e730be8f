import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { describe, test } from 'node:test'

import { type IsolationLevel, sql } from 'kysely'

import { buildTestApp } from '../helpers/build-test-app.ts'
import { makeAccount } from '../helpers/factories.ts'

/*
 * PGlite is one connection in one process, so writers there can never overlap: these tests need a
 * real PostgreSQL (DATABASE_URL) and say so when they skip.
 */
const skip = process.env.DATABASE_URL ? false : 'needs DATABASE_URL (PostgreSQL): PGlite has no concurrent writers'

/*
 * The same answers at every isolation level: read committed (PostgreSQL's default), repeatable
 * read (YugabyteDB's, and snapshot isolation generally) and serializable (CockroachDB's). At the
 * two higher levels the losers of each race fail with 40001 and are tried again
 * (src/db/transaction.ts); without that they answered 500.
 */
const LEVELS: IsolationLevel[] = ['read committed', 'repeatable read', 'serializable']

for (const isolation of LEVELS)
  describe(`[postgres] concurrent writers at ${isolation}`, { skip }, () => {
    test('30 concurrent "add billing contact" requests: exactly 3 succeed, 27 are billing-contact-limit', async (t) => {
      const app = await buildTestApp(t, 'postgres', { isolation })
      const { accountId, users } = await makeAccount(app, { extraUsers: 30 })
      await app.app.listen({ port: 0, host: '127.0.0.1' })
      const { port } = app.app.server.address() as AddressInfo

      const ids = Array.from({ length: 30 }, (_, i) => users[`u${i + 1}`]!)
      const results = await Promise.all(
        ids.map((userId) =>
          fetch(`http://127.0.0.1:${port}/v1/accounts/${accountId}/contacts/billing`, {
            method: 'POST',
            headers: { authorization: `Bearer ${app.apiKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({ userId }),
          }).then(async (r) => ({ status: r.status, body: (await r.json()) as { type?: string } })),
        ),
      )
      const ok = results.filter((r) => r.status === 200)
      const limited = results.filter((r) => r.status === 409 && r.body.type === '/problems/billing-contact-limit')
      assert.equal(ok.length, 3, JSON.stringify(results.map((r) => r.status)))
      assert.equal(limited.length, 27)

      const sheet = (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/contacts` })).json()
      assert.equal(sheet.billing.length, 3)
      const audit = (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/audit-events?limit=200` })).json()
      assert.equal(audit.data.filter((e: { action: string }) => e.action === 'contacts.updated').length, 3)
    })

    test('the database itself refuses a fourth billing row and a foreign user, whatever the code does', async (t) => {
      const app = await buildTestApp(t, 'postgres', { isolation })
      const a = await makeAccount(app, { extraUsers: 4 })
      const b = await makeAccount(app)
      const db = app.handle.db
      const row = (userId: string, position: number) => ({
        account_id: a.accountId,
        slot: 'billing' as const,
        position,
        user_id: userId,
        user_status: 'active' as const,
      })
      await db
        .insertInto('contact_slots')
        .values([row(a.users.u1!, 0), row(a.users.u2!, 1), row(a.users.u3!, 2)])
        .execute()
      await assert.rejects(db.insertInto('contact_slots').values(row(a.users.u4!, 3)).execute(), /check constraint/)
      await assert.rejects(db.insertInto('contact_slots').values(row(a.users.u1!, 1)).execute(), /duplicate key/)
      // a user of account b in account a's slot: the composite foreign key has no such (account, user)
      await assert.rejects(
        db
          .insertInto('contact_slots')
          .values({ ...row(b.users.admin!, 0), slot: 'primary' })
          .execute(),
        /foreign key/,
      )
      // an outside address anywhere but security
      await assert.rejects(
        db
          .insertInto('contact_slots')
          .values({
            account_id: a.accountId,
            slot: 'primary',
            position: 0,
            email: 'x@example.com',
            verification: 'pending',
          })
          .execute(),
        /check constraint/,
      )
    })

    test('concurrent whole-sheet PUTs with the same If-Match: one wins, the rest get version-mismatch', async (t) => {
      const app = await buildTestApp(t, 'postgres', { isolation })
      const level = await sql<{ transaction_isolation: string }>`show transaction isolation level`.execute(
        app.handle.db,
      )
      assert.equal(level.rows[0]!.transaction_isolation, isolation, 'the database runs at the level under test')
      const { accountId, users } = await makeAccount(app, { extraUsers: 10 })
      const first = await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/contacts` })
      const etag = first.headers.etag as string
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          app.call({
            method: 'PUT',
            url: `/v1/accounts/${accountId}/contacts`,
            headers: { 'if-match': etag },
            payload: { primary: { userId: users[`u${i + 1}`] } },
          }),
        ),
      )
      assert.equal(results.filter((r) => r.statusCode === 200).length, 1)
      assert.equal(results.filter((r) => r.statusCode === 412).length, 9)
    })
  })
