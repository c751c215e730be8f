import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { sql } from 'kysely'

import type { MailEvent } from '../../src/bounces/mail-event.ts'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { makeAccount, putSheet } from '../helpers/factories.ts'
import { testWorker } from '../helpers/test-worker.ts'
import { receivedBy, type SmtpSink, startSmtpSink } from '../peers/smtp-sink.ts'

/*
 * A bounce of a contact a child account inherits from its parent (issue 16): the address is the
 * parent's contact, so it goes on the parent's suppression list and the parent's admins are told,
 * once, however many of its children's mails to it bounce; every account inheriting it routes
 * around it from then on, mail already queued to it included; the child records its own bounce.
 */

/** A parent whose billing contact its two children inherit; each child has a primary contact of its own. */
async function family(app: TestApp) {
  const parent = await makeAccount(app)
  const children = [
    await makeAccount(app, { parentAccountId: parent.accountId }),
    await makeAccount(app, { parentAccountId: parent.accountId }),
  ]
  await putSheet(app, parent.accountId, {
    primary: { userId: parent.users.admin },
    billing: [{ userId: parent.users.member }],
  })
  for (const c of children) await putSheet(app, c.accountId, { primary: { userId: c.users.admin } })
  return { parent, children, dead: `${parent.users.member}@example.com` }
}

const invoice = (app: TestApp, accountId: string, subject: string) =>
  app.call({
    method: 'POST',
    url: `/v1/accounts/${accountId}/notifications`,
    payload: { category: 'invoice', subject, text: 'Due in 14 days.' },
  })

const suppressed = async (app: TestApp) =>
  (
    await sql<{ account_id: string; email: string; delivery_id: string | null }>`
      select account_id, email, delivery_id from suppressions order by account_id, email`.execute(app.handle.db)
  ).rows

const undeliverableEvents = async (app: TestApp) =>
  (
    await sql<{ account_id: string; data: Record<string, unknown> }>`
      select account_id, payload -> 'data' as data from events where type = 'contact.undeliverable'
      order by account_id`.execute(app.handle.db)
  ).rows

for (const kind of DATABASES) {
  describe(`[${kind}] the bounce of an inherited contact`, () => {
    test("a refusal at the relay suppresses the parent's contact and tells the parent's admins; the next child routes around it", async (t) => {
      const app = await buildTestApp(t, kind)
      const { parent, children, dead } = await family(app)
      const sink = await startSmtpSink({
        respond: (rcpt) => (rcpt === dead ? { code: 550, message: '5.1.1 user unknown' } : undefined),
      })
      t.after(() => sink.close())
      const { drain } = testWorker(t, app, { smtpUrl: sink.url })
      const [one, two] = children as [(typeof children)[0], (typeof children)[0]]

      assert.equal((await invoice(app, one.accountId, 'Invoice 1')).statusCode, 202)
      await drain()
      // the child's own primary had it; the parent's billing contact was refused
      assert.deepEqual(receivedBy(sink, /^Invoice 1$/), [`${one.users.admin}@example.com`])
      // on the parent's list, not the child's (the child's own contacts are fine)
      assert.deepEqual(await suppressed(app), [{ account_id: parent.accountId, email: dead, delivery_id: null }])
      // the parent's super admin is told, about the parent's slot; nobody in the child
      assert.deepEqual(receivedBy(sink, /^Fix a contact/), [`${parent.users.admin}@example.com`])
      const fix = sink.messages.find((m) => /^Fix a contact/.test(m.subject ?? ''))!
      assert.match(fix.subject ?? '', new RegExp(`Account ${parent.accountId}`))
      assert.match(fix.text ?? '', /billing contact/)
      // the parent's sheet shows it, as its own contact's
      const sheet = (await app.call({ method: 'GET', url: `/v1/accounts/${parent.accountId}/contacts` })).json()
      assert.equal(sheet.billing[0].undeliverable.kind, 'hard_bounce')
      // the child's event says whose contact it was; the parent's, through which account
      const events = await undeliverableEvents(app)
      const of = (id: string) => events.filter((e) => e.account_id === id).map((e) => e.data)
      assert.equal(of(one.accountId).length, 1)
      assert.equal(of(one.accountId)[0]!.contactOfAccountId, parent.accountId)
      // the slots are the holder's: the address is the parent's billing contact, which the child inherits
      assert.deepEqual(of(one.accountId)[0]!.slots, ['billing'])
      assert.equal(of(parent.accountId).length, 1)
      assert.equal(of(parent.accountId)[0]!.viaAccountId, one.accountId)
      assert.deepEqual(of(parent.accountId)[0]!.slots, ['billing'])
      const audited = await sql<{ account_id: string }>`
        select account_id from audit_events where action = 'contacts.undeliverable' order by account_id`.execute(
        app.handle.db,
      )
      assert.deepEqual(audited.rows.map((r) => r.account_id).sort(), [one.accountId, parent.accountId].sort())

      // the other child's invoice does not try the dead address: its routing reads the parent's list
      const before = sink.messages.length
      const preview = (
        await app.call({ method: 'GET', url: `/v1/accounts/${two.accountId}/recipients?category=invoice` })
      ).json()
      assert.deepEqual(
        preview.recipients.map((r: { email: string }) => r.email),
        [`${two.users.admin}@example.com`],
      )
      await invoice(app, two.accountId, 'Invoice 2')
      await drain()
      assert.deepEqual(receivedBy(sink, /^Invoice 2$/), [`${two.users.admin}@example.com`])
      assert.equal(sink.messages.length, before + 1)

      // the parent's admin clears it (the mailbox works again): both children reach it again
      const cleared = await app.call({
        method: 'DELETE',
        url: `/v1/accounts/${parent.accountId}/suppressions/${encodeURIComponent(dead)}`,
      })
      assert.equal(cleared.statusCode, 204, cleared.body)
      const again = (
        await app.call({ method: 'GET', url: `/v1/accounts/${two.accountId}/recipients?category=invoice` })
      ).json()
      assert.ok(again.recipients.some((r: { email: string }) => r.email === dead))
    })

    test('two children’s mails to it bounce in one report: the parent is told once; mail queued to it is not sent', async (t) => {
      const app = await buildTestApp(t, kind)
      const { parent, children, dead } = await family(app)
      const sink = await startSmtpSink()
      t.after(() => sink.close())
      const { drain } = testWorker(t, app, { smtpUrl: sink.url })
      const [one, two] = children as [(typeof children)[0], (typeof children)[0]]
      for (const c of children) await invoice(app, c.accountId, `Invoice of ${c.accountId}`)
      await drain()
      // the relay took both: an email service reports both bounces in one request
      const refs = children.map((c) => {
        const m = sink.messages.find(
          (x) =>
            x.subject === `Invoice of ${c.accountId}` && receivedBy({ messages: [x] } as SmtpSink, /./)[0] === dead,
        )
        return m?.headers.get('x-account-contacts-ref') as string
      })
      assert.ok(refs.every((r) => typeof r === 'string'))
      // a third invoice is queued to the dead address before the report arrives
      const third = await invoice(app, two.accountId, 'Invoice 3')
      assert.equal(third.statusCode, 202)

      const events: MailEvent[] = refs.map((ref, i) => ({
        source: 'postmark',
        eventId: `pm-${i}`,
        kind: 'hard_bounce',
        ref,
        recipient: dead,
        diagnostic: 'smtp;550 5.1.1 The email account that you tried to reach does not exist.',
        at: new Date(),
      }))
      // in one transaction, as a batch: taken one by one instead (a failed batch's fallback), the test would prove less
      const outcomes = await app.services.bounces.ingest(events, {
        warn: (o: object, m: string) => assert.fail(`${m}: ${String((o as { err?: unknown }).err)}`),
      })
      assert.deepEqual(outcomes, ['bounced', 'bounced'])
      assert.deepEqual(await suppressed(app), [{ account_id: parent.accountId, email: dead, delivery_id: null }])
      await drain()
      // one "fix a contact", to the parent's admin
      assert.deepEqual(receivedBy(sink, /^Fix a contact/), [`${parent.users.admin}@example.com`])
      // each child records its bounce; the parent its contact's, once
      const got = await undeliverableEvents(app)
      assert.deepEqual(got.map((e) => e.account_id).sort(), [one.accountId, two.accountId, parent.accountId].sort())
      // the queued invoice was claimed, found suppressed at the parent, and not sent there
      assert.deepEqual(receivedBy(sink, /^Invoice 3$/), [`${two.users.admin}@example.com`])
      const d = await sql<{ status: string; last_error: string }>`
        select status, last_error from deliveries
        where account_id = ${two.accountId} and notification_id = ${third.json().id} and recipient = ${dead}`.execute(
        app.handle.db,
      )
      assert.equal(d.rows[0]?.status, 'bounced')
      assert.match(d.rows[0]!.last_error, /not sent: the address is on the suppression list/)
    })
  })
}
