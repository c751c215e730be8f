import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, test } from 'node:test'

import { type RawBuilder, sql } from 'kysely'

import type { MailEventOutcome } from '../../src/bounces/bounces.service.ts'
import type { MailEvent, MailEventKind } from '../../src/bounces/mail-event.ts'
import { signRef } from '../../src/bounces/return-path.ts'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { makeAccount, putSheet } from '../helpers/factories.ts'
import { testWorker } from '../helpers/test-worker.ts'
import { startSmtpSink } from '../peers/smtp-sink.ts'

/*
 * A request's bounces taken together in one transaction (src/bounces/bounce-batch.ts) end as
 * taking them one by one does: the same scenario runs in two accounts of one database, posted as
 * one request in the first and as one request per event in the second (the path a lone bounce,
 * or a batch that failed, takes), and both accounts end with the same rows and outcomes.
 */

/** The mails to `address` (a user id's or a whole address) with this subject, as (reference, delivery id). */
async function mailsTo(app: TestApp, accountId: string, subject: RegExp, address: string) {
  const r = await sql<{ id: string; return_token: string; subject: string; text: string }>`
    select d.id, d.return_token, n.subject, n.text from deliveries d
    join notifications n on n.account_id = d.account_id and n.id = d.notification_id
    where d.account_id = ${accountId} and d.channel = 'email' and d.recipient like ${`${address}%`}
    order by d.id`.execute(app.handle.db)
  return r.rows
    .filter((x) => subject.test(x.subject))
    .map((x) => ({ ...x, ref: signRef(app.services.secrets, x.return_token) }))
}

const event = (id: string, ref: string, kind: MailEventKind, recipient: string): MailEvent => ({
  source: 'sendgrid',
  eventId: id,
  kind,
  ref,
  recipient,
  diagnostic: kind === 'soft_bounce' ? '452 4.2.2 over quota' : '550 5.1.1 no such user',
  at: new Date(),
})

/** The batch must hold: taken one by one after all, the two accounts would agree for nothing. */
const mustNotFallBack = {
  warn(o: object, m: string) {
    assert.fail(`${m}: ${String((o as { err?: unknown }).err)}`)
  },
}

/**
 * What an account's bounces left, with every id of it replaced by what it names (a delivery by its
 * notification's subject and recipient, a user by its key), each list sorted, so that two accounts
 * that lived the same story compare equal.
 */
async function stateOf(app: TestApp, accountId: string, users: Record<string, string>) {
  const q = async <R>(query: RawBuilder<R>) => (await query.execute(app.handle.db)).rows
  const deliveries = await q<{ id: string; notification_id: string; subject: string; recipient: string }>(sql`
    select d.id, d.notification_id, n.subject, d.recipient from deliveries d
    join notifications n on n.account_id = d.account_id and n.id = d.notification_id where d.account_id = ${accountId}`)
  const state = {
    deliveries: await q(sql`
      select n.subject, d.recipient, d.status, d.last_error, d.fallback_for from deliveries d
      join notifications n on n.account_id = d.account_id and n.id = d.notification_id
      where d.account_id = ${accountId} and d.channel = 'email'`),
    notifications: await q(sql`
      select subject, category, kind, status, recipients from notifications where account_id = ${accountId}`),
    suppressions: await q(sql`
      select email, kind, source, reason, delivery_id from suppressions where account_id = ${accountId}`),
    mailEvents: await q(sql`
      select kind, recipient, delivery_id from mail_events where account_id = ${accountId}`),
    // the sheet's events carry the time of its change
    events: await q(
      sql`select type, payload->'data' as data from events where account_id = ${accountId} and type <> 'contacts.updated'`,
    ),
    audit: await q(
      sql`select action, after from audit_events where account_id = ${accountId} and action = 'contacts.undeliverable'`,
    ),
  }
  const names = new Map<string, string>([[accountId, 'ACCOUNT']])
  for (const d of deliveries) names.set(d.id, `D(${d.subject}|${d.recipient})`)
  for (const d of deliveries) names.set(d.notification_id, `N(${d.subject})`)
  for (const [key, id] of Object.entries(users)) names.set(id, key)
  const keys = [...names.keys()].sort((a, b) => b.length - a.length)
  const rename = (s: string) => keys.reduce((acc, k) => acc.split(k).join(names.get(k)!), s)
  // the names of the names: a delivery's label holds a user id, renamed in a second pass
  const normal = (rows: unknown[]) => rows.map((r) => rename(rename(JSON.stringify(r)))).sort()
  return Object.fromEntries(Object.entries(state).map(([k, rows]) => [k, normal(rows)]))
}

/** An account whose receipts go to two billing contacts (member, u1), its primary contact the super admin. */
async function billedTwice(app: TestApp) {
  const { accountId, users } = await makeAccount(app, { extraUsers: 1 })
  await putSheet(app, accountId, {
    primary: { userId: users.admin! },
    billing: [{ userId: users.member! }, { userId: users.u1! }],
  })
  for (const subject of ['Receipt 1', 'Receipt 2']) {
    const r = await app.call({
      method: 'POST',
      url: `/v1/accounts/${accountId}/notifications`,
      payload: { category: 'receipt', subject, text: 'Thank you.' },
    })
    assert.equal(r.statusCode, 202, r.body)
  }
  return { accountId, users }
}

for (const kind of DATABASES) {
  describe(`[${kind}] a request's bounces in one transaction`, () => {
    test('end as taking them one by one: duplicates, replays, forwards, soft bounces, one address twice, a bounced fix mail', async (t) => {
      const app = await buildTestApp(t, kind, { emailEvents: { softBounces: { limit: 2, days: 7 } } })
      const sink = await startSmtpSink()
      t.after(() => sink.close())
      const { drain } = testWorker(t, app, { smtpUrl: sink.url })
      const together = await billedTwice(app)
      const alone = await billedTwice(app)
      await drain()

      const stranger = signRef(app.services.secrets, randomBytes(16).toString('hex'))
      const firstRequest = async (a: { accountId: string; users: Record<string, string> }) => {
        const [r1m] = await mailsTo(app, a.accountId, /^Receipt 1$/, a.users.member!)
        const [r1u] = await mailsTo(app, a.accountId, /^Receipt 1$/, a.users.u1!)
        const [r2m] = await mailsTo(app, a.accountId, /^Receipt 2$/, a.users.member!)
        const [r2u] = await mailsTo(app, a.accountId, /^Receipt 2$/, a.users.u1!)
        const p = a.accountId
        const member = `${a.users.member}@example.com`
        const u1 = `${a.users.u1}@example.com`
        return [
          event(`${p}-1`, r1m!.ref, 'hard_bounce', member),
          // a second bounce of the delivery, and the first event again
          event(`${p}-2`, r1m!.ref, 'hard_bounce', member),
          event(`${p}-1`, r1m!.ref, 'hard_bounce', member),
          // the other billing contact's: both gone, the receipt falls back to the primary contact, once
          event(`${p}-3`, r1u!.ref, 'hard_bounce', u1),
          // the same address bounces a second mail
          event(`${p}-4`, r2m!.ref, 'hard_bounce', member),
          event(`${p}-5`, r2u!.ref, 'delivered', u1),
          // a forward's target bounced, not our contact
          event(`${p}-6`, r2u!.ref, 'hard_bounce', 'forwarded@elsewhere.example'),
          // one soft bounce, below the limit of two
          event(`${p}-7`, r2u!.ref, 'soft_bounce', u1),
          event(`${p}-8`, stranger, 'hard_bounce', u1),
          event(`${p}-9`, 'not-a-reference', 'hard_bounce', u1),
        ]
      }
      const secondRequest = async (a: { accountId: string; users: Record<string, string> }) => {
        const admin = `${a.users.admin}@example.com`
        // the admin's "fix a contact" mail about u1 bounces: no "fix a contact" about it
        const fix = (await mailsTo(app, a.accountId, /^Fix a contact/, a.users.admin!)).filter((m) =>
          m.text.includes(a.users.u1!),
        )
        assert.equal(fix.length, 1)
        const [r2u] = await mailsTo(app, a.accountId, /^Receipt 2$/, a.users.u1!)
        return [
          // the first request's soft bounce again: a replay, which counts for nothing (the batch
          // plans it as new at first, as the limit's second, and finds out when keeping it)
          event(`${a.accountId}-7`, r2u!.ref, 'soft_bounce', `${a.users.u1}@example.com`),
          event(`${a.accountId}-10`, fix[0]!.ref, 'hard_bounce', admin),
          // the second soft bounce suppresses u1; the only admin is suppressed now, so nobody is told
          event(`${a.accountId}-11`, r2u!.ref, 'soft_bounce', `${a.users.u1}@example.com`),
        ]
      }
      const expected: MailEventOutcome[][] = [
        [
          'bounced',
          'duplicate',
          'duplicate',
          'bounced',
          'bounced',
          'recorded',
          'recorded',
          'recorded',
          'unmatched',
          'unmatched',
        ],
        ['replay', 'bounced', 'bounced'],
      ]
      for (const [i, request] of [firstRequest, secondRequest].entries()) {
        assert.deepEqual(await app.services.bounces.ingest(await request(together), mustNotFallBack), expected[i])
        const one: MailEventOutcome[] = []
        for (const e of await request(alone)) one.push(...(await app.services.bounces.ingest([e])))
        assert.deepEqual(one, expected[i])
        await drain()
      }

      const mine = await stateOf(app, together.accountId, together.users)
      assert.deepEqual(mine, await stateOf(app, alone.accountId, alone.users))
      // and that story is the one expected: each receipt falls back to the primary contact once, for
      // the bounce after which no billing contact was left; two fix mails, one per address (the
      // member's second bounce finds it on the list: the admins were told), none about the fix mail
      const fallbacks = mine.deliveries!.filter((d) => !d.includes('"fallback_for":null'))
      assert.deepEqual(
        fallbacks.map((d) => JSON.parse(d)),
        [
          {
            subject: 'Receipt 1',
            recipient: 'admin@example.com',
            status: 'delivered',
            last_error: null,
            fallback_for: 'D(Receipt 1|u1@example.com)',
          },
          {
            subject: 'Receipt 2',
            recipient: 'admin@example.com',
            status: 'delivered',
            last_error: null,
            fallback_for: 'D(Receipt 2|member@example.com)',
          },
        ],
      )
      assert.equal(mine.deliveries!.filter((d) => d.includes('Fix a contact')).length, 2)
      assert.deepEqual(
        mine.suppressions!.map((s) => JSON.parse(s).email),
        ['admin@example.com', 'member@example.com', 'u1@example.com'],
      )
      assert.equal(mine.events!.filter((e) => e.includes('contact.undeliverable')).length, 5)
    })
  })
}
