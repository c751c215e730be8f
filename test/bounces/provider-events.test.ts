import assert from 'node:assert/strict'
import { after, before, describe, test, type TestContext } from 'node:test'

import { sql } from 'kysely'

import { providerRefHeaders } from '../../src/bounces/providers/index.ts'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { makeAccount, putSheet } from '../helpers/factories.ts'
import { testWorker } from '../helpers/test-worker.ts'
import {
  type EmailService,
  RETURN_PATH,
  type ServiceEvent,
  startEmailService,
  type WebhookPost,
} from '../peers/email-services/index.ts'
import { receivedBy, type SmtpSink, startSmtpSink } from '../peers/smtp-sink.ts'

/*
 * The bounce-to-role loop through the webhooks of SES (over SNS), SendGrid and Mailgun (Postmark's
 * is bounce-loop.test.ts): the relay takes a receipt for the billing contact, and minutes later the
 * email service posts, signed as it signs, that the mailbox does not exist. The test acts as each
 * service (test/peers/email-services/), reading the reference from where that service would find it.
 */

const PROVIDERS = ['ses', 'sendgrid', 'mailgun'] as const
type Provider = (typeof PROVIDERS)[number]

const ALL = [...PROVIDERS, 'postmark'] as const
const services = {} as Record<(typeof ALL)[number], EmailService>
before(async () => {
  for (const p of ALL) services[p] = await startEmailService(p)
})
after(async () => {
  for (const s of Object.values(services)) await s.close()
})

let nextEvent = 0
/** An event id no other event of this run has. */
const eventId = () => `ev-${process.pid}-${++nextEvent}`

/** The one mail with this subject to `address`. */
function mailTo(sink: SmtpSink, subject: string, address: string) {
  const found = sink.messages.filter(
    (m) => m.subject === subject && receivedBy({ messages: [m] } as SmtpSink, /./).includes(address),
  )
  assert.equal(found.length, 1, `mails "${subject}" to ${address}`)
  return found[0]!
}

/** The one "Fix a contact of …" mail, to `address`. */
function fixMail(sink: SmtpSink, address: string) {
  const found = sink.messages.filter((m) => /^Fix a contact/.test(m.subject ?? ''))
  assert.equal(found.length, 1, 'one "Fix a contact" mail')
  return mailTo(sink, found[0]!.subject!, address)
}

const post = (app: TestApp, req: WebhookPost) =>
  app.app.inject({ method: 'POST', url: req.url, headers: req.headers, payload: req.body })

async function counts(app: TestApp) {
  const r = await sql<{ d: number; s: number; a: number; e: number; n: number; m: number }>`
    select (select count(*) from deliveries)::int as d, (select count(*) from suppressions)::int as s,
      (select count(*) from audit_events)::int as a, (select count(*) from events)::int as e,
      (select count(*) from notifications)::int as n, (select count(*) from mail_events)::int as m`.execute(
    app.handle.db,
  )
  return r.rows[0]!
}

const suppressions = async (app: TestApp, accountId: string) =>
  (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/suppressions` }))
    .json()
    .data.map((s: { email: string; kind: string; source: string }) => [s.email, s.kind, s.source])

const sheetOf = async (app: TestApp, accountId: string) =>
  (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/contacts` })).json()

/** The app trusting `service`, its worker sending each mail with that service's metadata headers. */
async function setUp(
  t: TestContext,
  kind: (typeof DATABASES)[number],
  service: EmailService,
  softBounces?: { limit: number; days: number },
) {
  const app = await buildTestApp(t, kind, {
    emailEvents: { providers: service.providers, ...(softBounces ? { softBounces } : {}) },
  })
  const sink = await startSmtpSink()
  t.after(() => sink.close())
  const { drain } = testWorker(t, app, {
    smtpUrl: sink.url,
    options: { returnPath: RETURN_PATH, refHeaders: (ref) => providerRefHeaders(service.provider, ref) },
  })
  return { app, sink, drain }
}

/** An account whose billing contact is its member and whose primary contact is its super admin. */
async function billedAccount(app: TestApp) {
  const { accountId, users } = await makeAccount(app)
  await putSheet(app, accountId, { primary: { userId: users.admin! }, billing: [{ userId: users.member! }] })
  return { accountId, primary: `${users.admin}@example.com`, billing: `${users.member}@example.com` }
}

async function sendReceipt(app: TestApp, accountId: string, subject: string): Promise<string> {
  const sent = await app.call({
    method: 'POST',
    url: `/v1/accounts/${accountId}/notifications`,
    payload: { category: 'receipt', subject, text: 'Thank you.' },
  })
  assert.equal(sent.statusCode, 202, sent.body)
  return sent.json().id as string
}

/** The reference the mail carried in our own header (each service's own place for it: the last test). */
function refOf(sink: SmtpSink, subject: string, address: string): string {
  const ref = mailTo(sink, subject, address).headers.get('x-account-contacts-ref')
  assert.equal(typeof ref, 'string', `no reference on the mail to ${address}`)
  return ref as string
}

async function accepted(app: TestApp, req: WebhookPost) {
  const res = await post(app, req)
  assert.equal(res.statusCode, 200, res.body)
  assert.deepEqual(res.json(), { received: 1 })
}

const history = async (app: TestApp, accountId: string, id: string) =>
  (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/notifications/${id}` })).json()

/**
 * The very bytes posted again: SNS and SendGrid signatures still hold (within their age limits);
 * Mailgun's token was taken once, so its verifier refuses the copy before anything is read.
 */
const REPLAY_STATUS: Record<Provider, number> = { ses: 200, sendgrid: 200, mailgun: 401 }

for (const kind of DATABASES) {
  describe(`[${kind}] email-service events`, () => {
    for (const provider of PROVIDERS) {
      test(`${provider}: a receipt whose billing mailbox bounces after the relay took it reaches the primary contact`, async (t) => {
        const service = services[provider]
        const { app, sink, drain } = await setUp(t, kind, service)
        const { accountId, primary, billing: dead } = await billedAccount(app)
        const id = await sendReceipt(app, accountId, 'Your receipt')
        await drain()
        assert.deepEqual(receivedBy(sink, /^Your receipt$/), [dead])
        const ref = refOf(sink, 'Your receipt', dead)
        const bounce: ServiceEvent = { ref, recipient: dead, kind: 'hard_bounce', eventId: eventId() }

        // signed with a key we were not given: refused, nothing changed
        const untouched = await counts(app)
        const forged = await post(app, service.post(bounce, { forged: true }))
        assert.equal(forged.statusCode, 401, forged.body)
        await drain()
        assert.deepEqual(await counts(app), untouched)
        assert.equal(sink.messages.length, 1)

        const request = service.post(bounce)
        await accepted(app, request)
        await drain()

        // the receipt reached the primary contact, once; the super admin was told to fix the contact
        assert.deepEqual(receivedBy(sink, /^Your receipt$/), [primary, dead].sort())
        assert.deepEqual(receivedBy(sink, /^Fix a contact/), [primary])
        const fix = fixMail(sink, primary)
        assert.ok(fix.text?.includes(dead), fix.text)
        assert.ok(fix.text?.includes(service.hardBounceReason), fix.text)

        const sheet = await sheetOf(app, accountId)
        assert.equal(sheet.billing[0].undeliverable.kind, 'hard_bounce')
        assert.equal(sheet.billing[0].undeliverable.reason, service.hardBounceReason)
        assert.equal(sheet.primary.undeliverable, undefined)
        assert.deepEqual(await suppressions(app, accountId), [[dead, 'hard_bounce', provider]])
        const health = (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/health` })).json()
        assert.ok(JSON.stringify(health.problems).includes(dead), JSON.stringify(health))

        const got = await history(app, accountId, id)
        const byTo = Object.fromEntries(got.deliveries.map((d: { recipient: string }) => [d.recipient, d]))
        assert.deepEqual(Object.keys(byTo).sort(), [primary, dead].sort())
        assert.equal(byTo[dead].status, 'bounced')
        assert.equal(byTo[dead].lastError, service.hardBounceReason)
        assert.equal(byTo[primary].status, 'delivered')
        assert.equal(byTo[primary].fallbackFor, byTo[dead].id)
        assert.deepEqual(
          got.recipients.filter((r: { fallbackFor?: string }) => r.fallbackFor).map((r: { email: string }) => r.email),
          [primary],
        )
        assert.equal(got.recipients.find((r: { email: string }) => r.email === primary).fallbackFor, dead)

        // the same request again, the same event re-sent, and a second bounce of the delivery change nothing
        const before = await counts(app)
        assert.equal((await post(app, request)).statusCode, REPLAY_STATUS[provider])
        await accepted(app, service.post(bounce))
        await accepted(app, service.post({ ...bounce, eventId: eventId() }))
        await drain()
        assert.deepEqual(await counts(app), before)
        assert.equal(sink.messages.length, 3)
        assert.equal((await history(app, accountId, id)).deliveries.length, 2)
      })

      test(`${provider}: a complaint about a receipt suppresses the address as a complaint`, async (t) => {
        const service = services[provider]
        const { app, sink, drain } = await setUp(t, kind, service)
        // another account beside, which the complaint must leave alone
        const other = await billedAccount(app)
        const { accountId, primary, billing } = await billedAccount(app)
        await sendReceipt(app, other.accountId, 'Their receipt')
        await sendReceipt(app, accountId, 'Receipt 9')
        await drain()
        const ref = refOf(sink, 'Receipt 9', billing)
        await accepted(app, service.post({ ref, recipient: billing, kind: 'complaint', eventId: eventId() }))
        await drain()

        assert.deepEqual(await suppressions(app, accountId), [[billing, 'complaint', provider]])
        assert.deepEqual(await suppressions(app, other.accountId), [])
        assert.equal((await sheetOf(app, accountId)).billing[0].undeliverable.kind, 'complaint')
        assert.deepEqual(receivedBy(sink, /^Receipt 9$/), [primary, billing].sort())
        assert.deepEqual(receivedBy(sink, /^Fix a contact/), [primary])
        assert.match(fixMail(sink, primary).text ?? '', /reported as unwanted/)
      })
    }

    test('sendgrid: a delivered event is recorded and suppresses nothing', async (t) => {
      const service = services.sendgrid
      const { app, sink, drain } = await setUp(t, kind, service)
      const { accountId, billing } = await billedAccount(app)
      const id = await sendReceipt(app, accountId, 'Delivered receipt')
      await drain()
      const ref = refOf(sink, 'Delivered receipt', billing)
      const before = await counts(app)
      await accepted(app, service.post({ ref, recipient: billing, kind: 'delivered', eventId: eventId() }))
      await drain()

      assert.deepEqual(await counts(app), { ...before, m: before.m + 1 })
      const kept = await sql<{ source: string; kind: string; recipient: string }>`
        select source, kind, recipient from mail_events`.execute(app.handle.db)
      assert.deepEqual(kept.rows, [{ source: 'sendgrid', kind: 'delivered', recipient: billing }])
      assert.deepEqual(await suppressions(app, accountId), [])
      assert.equal((await sheetOf(app, accountId)).billing[0].undeliverable, undefined)
      const got = await history(app, accountId, id)
      assert.deepEqual(
        got.deliveries.map((d: { recipient: string; status: string }) => [d.recipient, d.status]),
        [[billing, 'delivered']],
      )
      assert.equal(sink.messages.length, 1)
    })

    test('mailgun: one soft bounce leaves the address deliverable; a second, of another delivery, suppresses it', async (t) => {
      const service = services.mailgun
      const { app, sink, drain } = await setUp(t, kind, service, { limit: 2, days: 7 })
      const { accountId, primary, billing } = await billedAccount(app)
      const first = await sendReceipt(app, accountId, 'First receipt')
      await drain()
      const firstRef = refOf(sink, 'First receipt', billing)
      const before = await counts(app)
      await accepted(app, service.post({ ref: firstRef, recipient: billing, kind: 'soft_bounce', eventId: eventId() }))
      await drain()

      // counted, nothing more
      assert.deepEqual(await counts(app), { ...before, m: before.m + 1 })
      assert.deepEqual(await suppressions(app, accountId), [])
      assert.equal((await sheetOf(app, accountId)).billing[0].undeliverable, undefined)
      assert.equal((await history(app, accountId, first)).deliveries[0].status, 'delivered')
      assert.equal(sink.messages.length, 1)

      // so the next receipt still goes to the billing contact
      const second = await sendReceipt(app, accountId, 'Second receipt')
      await drain()
      assert.deepEqual(receivedBy(sink, /^Second receipt$/), [billing])
      const secondRef = refOf(sink, 'Second receipt', billing)
      assert.notEqual(secondRef, firstRef)
      await accepted(app, service.post({ ref: secondRef, recipient: billing, kind: 'soft_bounce', eventId: eventId() }))
      await drain()

      assert.deepEqual(await suppressions(app, accountId), [[billing, 'soft_bounce', 'mailgun']])
      const slot = (await sheetOf(app, accountId)).billing[0].undeliverable
      assert.equal(slot.kind, 'soft_bounce')
      assert.equal(slot.reason, '452 4.2.2 The email account that you tried to reach is over quota.')
      // the second receipt fell back to the primary contact; the first had been delivered and stays so
      assert.deepEqual(receivedBy(sink, /^Second receipt$/), [primary, billing].sort())
      assert.deepEqual(receivedBy(sink, /^First receipt$/), [billing])
      assert.deepEqual(receivedBy(sink, /^Fix a contact/), [primary])
      const byTo = Object.fromEntries(
        (await history(app, accountId, second)).deliveries.map((d: { recipient: string }) => [d.recipient, d]),
      )
      assert.equal(byTo[billing].status, 'bounced')
      assert.equal(byTo[primary].fallbackFor, byTo[billing].id)
      assert.equal((await history(app, accountId, first)).deliveries[0].status, 'delivered')
    })

    /*
     * Each service reads the reference from its own place (the envelope sender, the metadata
     * headers of outgoing-headers.ts): it must arrive there as the service reads it. JSON metadata
     * once went as RFC 2047 encoded words, which no service decodes (smtp.transport.ts now sends
     * plain ASCII values as they are).
     */
    for (const provider of ALL) {
      test(`the mail carries the reference where ${provider} reads it for its events`, async (t) => {
        const s = services[provider]
        const { app, sink, drain } = await setUp(t, kind, s)
        const { accountId, billing } = await billedAccount(app)
        await sendReceipt(app, accountId, 'Metadata receipt')
        await drain()
        const mail = mailTo(sink, 'Metadata receipt', billing)
        assert.equal(s.refOf(mail), mail.headers.get('x-account-contacts-ref'), JSON.stringify(mail.headerLines))
      })
    }
  })
}
