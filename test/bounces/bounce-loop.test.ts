import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { sql } from 'kysely'

import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { makeAccount, putSheet, sessionFor } from '../helpers/factories.ts'
import { mailParts } from '../helpers/mail-parts.ts'
import { testWorker } from '../helpers/test-worker.ts'
import { receivedBy, type SmtpSink, startSmtpSink } from '../peers/smtp-sink.ts'

/*
 * The bounce-to-role loop end to end, through Postmark's webhook (the other providers and DSNs
 * have tests of their own): a relay takes the mail (250), the email service reports a bounce
 * later, and the service suppresses the address, sends the notification to the fallback, tells
 * the admins, flags the slot, and shows it all in the history.
 */

const POSTMARK = { username: 'hooks', password: 'postmark-webhook-password' }
const basic = `Basic ${Buffer.from(`${POSTMARK.username}:${POSTMARK.password}`).toString('base64')}`

/** The reference the mail to `address` with this subject carried, as an email service would report it back. */
function refOf(sink: SmtpSink, subject: string, address: string): string {
  const m = sink.messages.find(
    (x) => x.subject === subject && receivedBy({ messages: [x] } as SmtpSink, /./)[0] === address,
  )
  const ref = m?.headers.get('x-account-contacts-ref')
  assert.equal(typeof ref, 'string', `no reference on the mail to ${address}`)
  return ref as string
}

const postmark = (app: TestApp, record: Record<string, unknown>, authorization = basic) =>
  app.app.inject({
    method: 'POST',
    url: '/v1/email-events/postmark',
    headers: { authorization, 'content-type': 'application/json' },
    payload: JSON.stringify(record),
  })

/** A Postmark bounce record as its webhook posts it, for the mail that carried `ref`. */
const bounceRecord = (id: number, email: string, ref: string, type = 'HardBounce') => ({
  RecordType: 'Bounce',
  ID: id,
  Type: type,
  TypeCode: 1,
  MessageID: `pm-${id}`,
  Email: email,
  Description: 'The server was unable to deliver your message (ex: unknown user, mailbox not found).',
  Details: 'smtp;550 5.1.1 The email account that you tried to reach does not exist.',
  BouncedAt: new Date().toISOString(),
  Metadata: { 'ac-ref': ref },
})

async function counts(app: TestApp) {
  const r = await sql<{ d: number; s: number; a: number; e: number; n: number; mailEvents: number }>`
    select (select count(*) from deliveries)::int as d, (select count(*) from suppressions)::int as s,
      (select count(*) from audit_events)::int as a, (select count(*) from events)::int as e,
      (select count(*) from notifications)::int as n, (select count(*) from mail_events)::int as "mailEvents"`.execute(
    app.handle.db,
  )
  return r.rows[0]!
}

for (const kind of DATABASES) {
  describe(`[${kind}] bounce to role`, () => {
    test('a receipt to a billing contact whose mailbox bounces after the relay took it reaches the primary contact', async (t) => {
      const app = await buildTestApp(t, kind, { emailEvents: { providers: { postmark: POSTMARK } } })
      const sink = await startSmtpSink()
      t.after(() => sink.close())
      const { drain } = testWorker(t, app, { smtpUrl: sink.url })
      const { accountId, users } = await makeAccount(app)
      const [admin, billing, member] = [users.admin!, users.billing!, users.member!]
      await putSheet(app, accountId, { primary: { userId: admin }, billing: [{ userId: member }] })
      const dead = `${member}@example.com`

      const sent = await app.call({
        method: 'POST',
        url: `/v1/accounts/${accountId}/notifications`,
        payload: { category: 'receipt', subject: 'Your receipt', text: 'Thank you.' },
      })
      assert.equal(sent.statusCode, 202, sent.body)
      await drain()
      // the relay took it: to the billing contact only, as the rule says
      assert.deepEqual(receivedBy(sink, /^Your receipt$/), [dead])

      const ref = refOf(sink, 'Your receipt', dead)
      // generated mail says so (RFC 3834), so that auto-responders leave it alone
      assert.ok(sink.messages.every((m) => m.headers.get('auto-submitted') === 'auto-generated'))
      const res = await postmark(app, bounceRecord(4242, dead, ref))
      assert.equal(res.statusCode, 200, res.body)
      await drain()

      // the receipt reached the primary contact, once; the admins were told to fix the contact
      assert.deepEqual(receivedBy(sink, /^Your receipt$/), [`${admin}@example.com`, dead])
      // and says why it came to them: in place of the address that does not work
      const instead = sink.messages.find(
        (m) =>
          m.subject === 'Your receipt' &&
          m.to &&
          !Array.isArray(m.to) &&
          m.to.value[0]!.address === `${admin}@example.com`,
      )
      assert.equal(
        mailParts(instead?.text).why,
        `You receive this as primary account contact of Account ${accountId}. It was meant for ${dead}, where mail does not arrive.`,
      )
      const fix = sink.messages.filter((m) => /^Fix a contact/.test(m.subject ?? ''))
      assert.deepEqual(receivedBy(sink, /^Fix a contact/), [`${admin}@example.com`])
      assert.match(fix[0]!.text ?? '', new RegExp(`${dead.replace('.', '\\.')}`))
      assert.match(fix[0]!.text ?? '', /billing contact/)
      assert.match(fix[0]!.text ?? '', /550 5\.1\.1/)
      assert.ok(!receivedBy(sink, /./).includes(`${billing}@example.com`))

      // the sheet, the health and the suppression list show it
      const sheet = (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/contacts` })).json()
      assert.equal(sheet.billing[0].undeliverable.kind, 'hard_bounce')
      assert.match(sheet.billing[0].undeliverable.reason, /550 5\.1\.1/)
      assert.equal(sheet.primary.undeliverable, undefined)
      const health = (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/health` })).json()
      assert.match(JSON.stringify(health.problems), new RegExp(dead.replace('.', '\\.')))
      const list = (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/suppressions` })).json()
      assert.deepEqual(
        list.data.map((s: { email: string; kind: string; source: string }) => [s.email, s.kind, s.source]),
        [[dead, 'hard_bounce', 'postmark']],
      )

      // the history: bounced, then the fallback delivered, and who it stood in for
      const got = (
        await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/notifications/${sent.json().id}` })
      ).json()
      const byTo = Object.fromEntries(got.deliveries.map((d: { recipient: string }) => [d.recipient, d]))
      assert.equal(byTo[dead].status, 'bounced')
      assert.match(byTo[dead].lastError, /550 5\.1\.1/)
      assert.equal(byTo[`${admin}@example.com`].status, 'delivered')
      assert.equal(byTo[`${admin}@example.com`].fallbackFor, byTo[dead].id)
      assert.equal(
        got.recipients.find((r: { email: string; fallbackFor?: string }) => r.fallbackFor === dead).email,
        `${admin}@example.com`,
      )

      // a webhook event and an audit event say what happened
      const evt = await sql<{
        payload: { data: { slots: string[] } }
      }>`select payload from events where type = 'contact.undeliverable'`.execute(app.handle.db)
      assert.equal(evt.rows.length, 1)
      assert.deepEqual(evt.rows[0]!.payload.data.slots, ['billing'])
      const audit = (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/audit-events` })).json()
      assert.ok(audit.data.some((a: { action: string }) => a.action === 'contacts.undeliverable'))

      // a second bounce of the same delivery, and the same event replayed, change nothing
      const before = await counts(app)
      for (const again of [bounceRecord(4243, dead, ref), bounceRecord(4242, dead, ref)]) {
        const r = await postmark(app, again)
        assert.equal(r.statusCode, 200, r.body)
      }
      await drain()
      assert.deepEqual(await counts(app), before)
      assert.equal(sink.messages.length, 3)

      // and the next receipt goes to the primary contact straight away
      await app.call({
        method: 'POST',
        url: `/v1/accounts/${accountId}/notifications`,
        payload: { category: 'receipt', subject: 'Second receipt', text: 'Thanks.' },
      })
      await drain()
      assert.deepEqual(receivedBy(sink, /^Second receipt$/), [`${admin}@example.com`])
    })

    test('an invoice whose billing address bounces reaches the primary contact once; a complaint suppresses too', async (t) => {
      const app = await buildTestApp(t, kind, { emailEvents: { providers: { postmark: POSTMARK } } })
      const sink = await startSmtpSink()
      t.after(() => sink.close())
      const { drain } = testWorker(t, app, { smtpUrl: sink.url })
      const { accountId, users } = await makeAccount(app)
      const [admin, member] = [users.admin!, users.member!]
      await putSheet(app, accountId, { primary: { userId: admin }, billing: [{ userId: member }] })
      const dead = `${member}@example.com`
      await app.call({
        method: 'POST',
        url: `/v1/accounts/${accountId}/notifications`,
        payload: { category: 'invoice', subject: 'Invoice 7', text: 'Due in 14 days.' },
      })
      await drain()
      const complaint = {
        RecordType: 'SpamComplaint',
        ID: 77,
        Type: 'SpamComplaint',
        Email: dead,
        MessageID: 'pm-77',
        BouncedAt: new Date().toISOString(),
        Metadata: { 'ac-ref': refOf(sink, 'Invoice 7', dead) },
      }
      assert.equal((await postmark(app, complaint)).statusCode, 200)
      await drain()
      // the primary contact had the invoice already: not sent again
      assert.deepEqual(receivedBy(sink, /^Invoice 7$/), [`${admin}@example.com`, dead].sort())
      const list = (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/suppressions` })).json()
      assert.equal(list.data[0].kind, 'complaint')
      assert.match(
        sink.messages.find((m) => /^Fix a contact/.test(m.subject ?? ''))!.text ?? '',
        /reported as unwanted/,
      )

      // clearing the address lets mail go to it again, audited
      const cleared = await app.call({ method: 'DELETE', url: `/v1/accounts/${accountId}/suppressions/${dead}` })
      assert.equal(cleared.statusCode, 204, cleared.body)
      assert.equal(
        (await app.call({ method: 'DELETE', url: `/v1/accounts/${accountId}/suppressions/${dead}` })).statusCode,
        404,
      )
      const audit = (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/audit-events` })).json()
      assert.ok(audit.data.some((a: { action: string }) => a.action === 'suppression.cleared'))
    })

    test('a forged, unsigned or unmatched event changes nothing', async (t) => {
      const app = await buildTestApp(t, kind, { emailEvents: { providers: { postmark: POSTMARK } } })
      const sink = await startSmtpSink()
      t.after(() => sink.close())
      const { drain } = testWorker(t, app, { smtpUrl: sink.url })
      const { accountId, users } = await makeAccount(app)
      await putSheet(app, accountId, { primary: { userId: users.admin! }, billing: [{ userId: users.member! }] })
      const dead = `${users.member}@example.com`
      await app.call({
        method: 'POST',
        url: `/v1/accounts/${accountId}/notifications`,
        payload: { category: 'receipt', subject: 'R', text: 'R.' },
      })
      await drain()
      const ref = refOf(sink, 'R', dead)
      const before = await counts(app)
      const wrongAuth = `Basic ${Buffer.from('hooks:guess').toString('base64')}`
      assert.equal((await postmark(app, bounceRecord(1, dead, ref), wrongAuth)).statusCode, 401)
      // a reference whose signature does not hold, and one that names no delivery
      const forged = `${ref.slice(0, -1)}${ref.endsWith('0') ? '1' : '0'}`
      assert.equal((await postmark(app, bounceRecord(2, dead, forged))).statusCode, 200)
      assert.equal((await postmark(app, bounceRecord(3, dead, `${'0'.repeat(32)}.${'0'.repeat(12)}`))).statusCode, 200)
      // a true reference, but a report about another address: the mail was forwarded, and the
      // forward's target bounced, not our contact (kept as a report, nothing else changes)
      assert.equal((await postmark(app, bounceRecord(4, 'forwarded-to@elsewhere.example', ref))).statusCode, 200)
      before.mailEvents += 1
      assert.equal(
        (await app.app.inject({ method: 'POST', url: '/v1/email-events/sendgrid', payload: '[]' })).statusCode,
        404,
      )
      await drain()
      assert.deepEqual(await counts(app), before)
    })
  })
}

for (const kind of DATABASES) {
  test(`[${kind}] resend reaches the holders who have not had the notification, once`, async (t) => {
    const app = await buildTestApp(t, kind)
    const sink = await startSmtpSink()
    t.after(() => sink.close())
    const { drain } = testWorker(t, app, { smtpUrl: sink.url })
    const { accountId, users } = await makeAccount(app)
    await putSheet(app, accountId, { primary: { userId: users.admin! } })
    const sent = await app.call({
      method: 'POST',
      url: `/v1/accounts/${accountId}/notifications`,
      payload: { category: 'invoice', subject: 'Invoice 9', text: 'Due.' },
    })
    await drain()
    // a billing contact is added afterwards: a resend reaches them, and only them
    await putSheet(app, accountId, { primary: { userId: users.admin! }, billing: [{ userId: users.member! }] })
    const url = `/v1/accounts/${accountId}/notifications/${sent.json().id}/resend`
    const first = await app.call({ method: 'POST', url })
    assert.equal(first.statusCode, 202, first.body)
    assert.equal(first.json().deliveries.length, 2)
    await drain()
    const again = await app.call({ method: 'POST', url })
    assert.equal(again.statusCode, 202)
    await drain()
    assert.deepEqual(receivedBy(sink, /^Invoice 9$/), [`${users.admin}@example.com`, `${users.member}@example.com`])
    // one audit event, by whoever resent it, with what it queued; the repeat queued nothing and wrote none
    const audit = await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/audit-events` })
    const resent = audit.json().data.filter((a: { action: string }) => a.action === 'notification.resent')
    assert.equal(resent.length, 1, audit.body)
    assert.equal(resent[0].actor.type, 'api_key')
    assert.deepEqual(resent[0].after, {
      notificationId: sent.json().id,
      queued: 1,
      recipients: [`${users.member}@example.com`],
    })
    const token = await sessionFor(app, accountId, users.member!)
    assert.equal((await app.call({ method: 'POST', url, token })).statusCode, 403)
  })
}
