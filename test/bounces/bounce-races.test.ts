import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { sql } from 'kysely'

import type { MailEvent } from '../../src/bounces/mail-event.ts'
import { signRef } from '../../src/bounces/return-path.ts'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { makeAccount, putSheet } from '../helpers/factories.ts'
import { testWorker } from '../helpers/test-worker.ts'
import { startSmtpSink } from '../peers/smtp-sink.ts'

/*
 * Reports of one address that arrive at the same moment, in requests of their own. Two soft
 * bounces of an address at the limit of two must suppress it: each counting before the other's
 * report was visible, neither would. Two requests locking the same deliveries in opposite orders
 * must both finish. PGlite runs one transaction at a time, so this needs PostgreSQL.
 */
const skip = process.env.DATABASE_URL ? false : 'needs DATABASE_URL (PostgreSQL): PGlite runs one transaction at a time'

const ACCOUNTS = 4

/** Accounts whose billing contact (the member) was sent two receipts, delivered, with their references. */
async function twoReceiptsEach(app: TestApp) {
  const made = []
  for (let i = 0; i < ACCOUNTS; i++) {
    const { accountId, users } = await makeAccount(app)
    await putSheet(app, accountId, { primary: { userId: users.admin! }, billing: [{ userId: users.member! }] })
    for (const subject of ['First', 'Second'])
      await app.call({
        method: 'POST',
        url: `/v1/accounts/${accountId}/notifications`,
        payload: { category: 'receipt', subject, text: 'Thanks.' },
      })
    made.push({ accountId, email: `${users.member}@example.com` })
  }
  return made
}

async function refsOf(app: TestApp, accountId: string): Promise<string[]> {
  const r = await sql<{ return_token: string }>`
    select d.return_token from deliveries d join notifications n on n.account_id = d.account_id and n.id = d.notification_id
    where d.account_id = ${accountId} and n.category = 'receipt' order by n.subject`.execute(app.handle.db)
  return r.rows.map((x) => signRef(app.services.secrets, x.return_token))
}

const soft = (id: string, ref: string, recipient: string): MailEvent => ({
  source: 'mailgun',
  eventId: id,
  kind: 'soft_bounce',
  ref,
  recipient,
  diagnostic: '452 4.2.2 over quota',
  at: new Date(),
})

/**
 * Runs `work` while the test holds every delivery locked, and lets go only once `waiting`
 * transactions wait for those locks: then they all start from the same instant.
 */
async function fromOneInstant<T>(app: TestApp, waiting: number, work: () => Promise<T>[]): Promise<T[]> {
  let release!: () => void
  const released = new Promise<void>((r) => (release = r))
  let locked!: () => void
  const isLocked = new Promise<void>((r) => (locked = r))
  const gate = app.handle.db.transaction().execute(async (trx) => {
    await sql`select 1 from deliveries for update`.execute(trx)
    locked()
    await released
  })
  await isLocked
  const runs = work()
  const end = Date.now() + 10_000
  for (;;) {
    const r = await sql<{ n: number }>`
      select count(*)::int as n from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock'`.execute(app.handle.db)
    if (r.rows[0]!.n >= waiting) break
    if (Date.now() > end) assert.fail(`only ${r.rows[0]!.n} of ${waiting} transactions came to wait`)
    await new Promise((r) => setTimeout(r, 20))
  }
  release()
  await gate
  return Promise.all(runs)
}

for (const isolation of ['read committed', 'repeatable read', 'serializable'] as const)
  describe(`[postgres] reports of one address at once, at ${isolation}`, { skip }, () => {
    for (const shape of ['a request per report', 'a request per delivery, every account in it'] as const) {
      test(`two soft bounces of an address at the limit suppress it (${shape})`, async (t) => {
        const app = await buildTestApp(t, 'postgres', {
          isolation,
          emailEvents: { softBounces: { limit: 2, days: 7 } },
        })
        const sink = await startSmtpSink()
        t.after(() => sink.close())
        const { drain } = testWorker(t, app, { smtpUrl: sink.url })
        const accounts = await twoReceiptsEach(app)
        await drain()
        const events = await Promise.all(
          accounts.map(async (a) => {
            const [first, second] = await refsOf(app, a.accountId)
            return [soft(`${a.accountId}-1`, first!, a.email), soft(`${a.accountId}-2`, second!, a.email)]
          }),
        )
        const requests =
          shape === 'a request per report' ? events.flat().map((e) => [e]) : [0, 1].map((i) => events.map((e) => e[i]!))
        const outcomes = await fromOneInstant(app, requests.length, () =>
          requests.map((r) => app.services.bounces.ingest(r)),
        )

        // one of the two counted the other's report: the limit was reached once per address
        assert.equal(outcomes.flat().filter((o) => o === 'bounced').length, ACCOUNTS, JSON.stringify(outcomes))
        const suppressed = await sql<{ account_id: string; email: string; kind: string }>`
        select account_id, email, kind from suppressions order by account_id`.execute(app.handle.db)
        assert.deepEqual(
          suppressed.rows,
          accounts
            .map((a) => ({ account_id: a.accountId, email: a.email, kind: 'soft_bounce' }))
            .sort((x, y) => x.account_id.localeCompare(y.account_id)),
        )
      })
    }

    test('two requests naming the same deliveries in opposite orders both finish, each delivery bounced once', async (t) => {
      const app = await buildTestApp(t, 'postgres', { isolation })
      const sink = await startSmtpSink()
      t.after(() => sink.close())
      const { drain } = testWorker(t, app, { smtpUrl: sink.url })
      const accounts = await twoReceiptsEach(app)
      await drain()
      const hard = await Promise.all(
        accounts.map(async (a) =>
          (await refsOf(app, a.accountId)).map((ref, i) => ({
            ...soft(`${a.accountId}-${i}`, ref, a.email),
            kind: 'hard_bounce' as const,
          })),
        ),
      )
      const forward = hard.flat()
      // the same reports, another provider's ids (so not replays), backwards
      const backward = forward.map((e) => ({ ...e, source: 'postmark' as const })).reverse()
      const outcomes = await fromOneInstant(app, 2, () => [
        app.services.bounces.ingest(forward),
        app.services.bounces.ingest(backward),
      ])
      assert.deepEqual(outcomes.flat().filter((o) => o === 'bounced').length, 2 * ACCOUNTS, JSON.stringify(outcomes))
      assert.ok(outcomes.flat().every((o) => o === 'bounced' || o === 'duplicate'))
      const fallbacks = await sql<{ n: number }>`
      select count(*)::int as n from deliveries where fallback_for is not null`.execute(app.handle.db)
      // each account's receipts fall back to its primary contact: one each
      assert.equal(fallbacks.rows[0]!.n, 2 * ACCOUNTS)
    })
  })
