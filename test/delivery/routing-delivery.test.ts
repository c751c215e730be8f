import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { getSheet, makeAccount, putSheet } from '../helpers/factories.ts'
import { testWorker } from '../helpers/test-worker.ts'
import { type SmtpSink, startSmtpSink } from '../peers/smtp-sink.ts'

/** The addresses the sink received mail for, sorted. */
const receivedBy = (sink: SmtpSink, subject: string) =>
  sink.messages
    .filter((m) => m.subject === subject)
    .flatMap((m) =>
      (Array.isArray(m.to) ? m.to : m.to ? [m.to] : []).flatMap((a) => a.value.map((v) => v.address!.toLowerCase())),
    )
    .sort()

async function send(app: TestApp, accountId: string, category: string, subject: string) {
  const res = await app.call({
    method: 'POST',
    url: `/v1/accounts/${accountId}/notifications`,
    payload: { category, subject, text: `${subject}.` },
  })
  assert.equal(res.statusCode, 202, res.body)
  return res.json()
}

const emailOf = (userId: string) => `${userId}@example.com`

for (const kind of DATABASES) {
  describe(`[${kind}] routing and delivery over real SMTP`, () => {
    test('an invoice reaches exactly the primary and the two billing contacts', async (t) => {
      const app = await buildTestApp(t, kind)
      const sink = await startSmtpSink()
      t.after(() => sink.close())
      const { drain } = testWorker(t, app, { smtpUrl: sink.url })
      const { accountId, users } = await makeAccount(app, { extraUsers: 3 })
      await putSheet(app, accountId, {
        primary: { userId: users.admin },
        billing: [{ userId: users.u1 }, { userId: users.u2 }],
        technicalAdmin: { userId: users.u3 },
      })
      const sent = await send(app, accountId, 'invoice', 'Invoice 2026-11')
      assert.equal(sent.recipients.length, 3)
      await drain()
      assert.deepEqual(
        receivedBy(sink, 'Invoice 2026-11'),
        [users.admin, users.u1, users.u2].map((u) => emailOf(u!)).sort(),
      )

      // every mail carries the delivery's own Message-ID
      const ids = sink.messages.filter((m) => m.subject === 'Invoice 2026-11').map((m) => m.messageId)
      assert.equal(new Set(ids).size, 3)
      for (const id of ids) assert.match(id!, new RegExp(`^<${sent.id}\\.[0-9a-f]{16}@contacts\\.test>$`))

      const got = (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/notifications/${sent.id}` })).json()
      assert.equal(got.status, 'delivered')
      assert.ok(
        got.deliveries.every((d: { status: string; attempts: number }) => d.status === 'delivered' && d.attempts === 1),
      )
    })

    test('one mail to a person who holds several slots, with all of them as the reason', async (t) => {
      const app = await buildTestApp(t, kind)
      const { accountId, users } = await makeAccount(app)
      await putSheet(app, accountId, { primary: { userId: users.billing }, billing: [{ userId: users.billing }] })
      const preview = (
        await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/recipients?category=invoice` })
      ).json()
      assert.equal(preview.recipients.length, 1)
      assert.deepEqual([...preview.recipients[0].slots].sort(), ['billing', 'primary'])
      assert.equal(preview.fallback, null)
    })

    test('a receipt with no billing contact goes to the primary; with no primary either, to the super admins; else undeliverable', async (t) => {
      const app = await buildTestApp(t, kind)
      const sink = await startSmtpSink()
      t.after(() => sink.close())
      const { drain } = testWorker(t, app, { smtpUrl: sink.url })
      const { accountId, users } = await makeAccount(app)
      await app.call({
        method: 'PUT',
        url: `/v1/accounts/${accountId}/contacts/primary`,
        payload: { userId: users.member },
      })

      const receipt = await send(app, accountId, 'receipt', 'Receipt 1')
      assert.equal(receipt.fallback, 'primary')
      await drain()
      assert.deepEqual(receivedBy(sink, 'Receipt 1'), [emailOf(users.member!)])

      await app.call({ method: 'DELETE', url: `/v1/accounts/${accountId}/contacts/primary` })
      const toAdmins = await send(app, accountId, 'receipt', 'Receipt 2')
      assert.equal(toAdmins.fallback, 'super_admins')
      assert.deepEqual(toAdmins.recipients[0].slots, ['super_admin'])
      await drain()
      assert.deepEqual(receivedBy(sink, 'Receipt 2'), [emailOf(users.admin!)])

      await app.call({
        method: 'PATCH',
        url: `/v1/accounts/${accountId}/users/${users.admin}`,
        payload: { role: 'member' },
      })
      const nobody = await send(app, accountId, 'receipt', 'Receipt 3')
      assert.equal(nobody.status, 'undeliverable')
      assert.deepEqual(nobody.recipients, [])
      const health = (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/health` })).json()
      assert.ok(health.problems.some((p: { code: string }) => p.code === 'undeliverable-notifications'))
    })

    test('a security notice skips a pending outside contact until the link in its verification mail is opened', async (t) => {
      const app = await buildTestApp(t, kind)
      const sink = await startSmtpSink()
      t.after(() => sink.close())
      const { drain } = testWorker(t, app, { smtpUrl: sink.url })
      const { accountId, users } = await makeAccount(app)
      await app.call({
        method: 'PUT',
        url: `/v1/accounts/${accountId}/contacts/primary`,
        payload: { userId: users.admin },
      })
      const set = await app.call({
        method: 'PUT',
        url: `/v1/accounts/${accountId}/contacts/security`,
        payload: { email: 'soc@outside.example' },
      })
      assert.equal(set.json().security.verification, 'pending')

      await send(app, accountId, 'security', 'Security notice 1')
      await drain()
      assert.deepEqual(receivedBy(sink, 'Security notice 1'), [emailOf(users.admin!)])

      // the only mail the pending address got is its verification; open its link
      const toOutside = sink.messages.filter((m) => receivedByOne(m) === 'soc@outside.example')
      assert.equal(toOutside.length, 1)
      const link = /https?:\/\/\S+\/v1\/verify-email\?token=[^\s"<]+/.exec(toOutside[0]!.text ?? '')![0]
      const page = await app.call({ method: 'GET', url: new URL(link).pathname + new URL(link).search, token: null })
      assert.equal(page.statusCode, 200)
      assert.match(page.headers['content-type'] as string, /text\/html/)
      assert.equal(
        (await getSheet(app, accountId)).sheet.security.verification,
        'pending',
        'opening the link only asks',
      )
      // the page's button posts the token
      const confirm = () =>
        app.call({
          method: 'POST',
          url: '/v1/verify-email',
          payload: { token: new URL(link).searchParams.get('token')! },
          token: null,
        })
      assert.equal((await confirm()).statusCode, 200)
      assert.equal((await confirm()).statusCode, 400, 'the link works once')

      assert.equal((await getSheet(app, accountId)).sheet.security.verification, 'verified')
      await send(app, accountId, 'security', 'Security notice 2')
      await drain()
      assert.deepEqual(receivedBy(sink, 'Security notice 2'), ['soc@outside.example', emailOf(users.admin!)].sort())
    })

    test('SMTP 451 then 250: delivered after a retry; 550 5.1.1: one attempt, bounced, and the contact is undeliverable', async (t) => {
      const app = await buildTestApp(t, kind)
      const sink = await startSmtpSink({
        respond: (rcpt, attempt) => {
          if (rcpt.startsWith('busy'))
            return attempt === 1 ? { code: 451, message: '4.3.0 Try again later' } : undefined
          if (rcpt.startsWith('gone')) return { code: 550, message: '5.1.1 No such user' }
          return undefined
        },
      })
      t.after(() => sink.close())
      const { drain } = testWorker(t, app, { smtpUrl: sink.url })
      const { accountId } = await makeAccount(app)
      for (const [id, role] of [
        ['busy', 'member'],
        ['gone', 'member'],
      ] as const) {
        await app.call({
          method: 'PUT',
          url: `/v1/accounts/${accountId}/users/${id}`,
          payload: { email: `${id}@example.com`, name: id, role },
        })
      }
      await app.call({ method: 'PUT', url: `/v1/accounts/${accountId}/contacts/primary`, payload: { userId: 'busy' } })
      await app.call({ method: 'POST', url: `/v1/accounts/${accountId}/contacts/billing`, payload: { userId: 'gone' } })

      const sent = await send(app, accountId, 'invoice', 'Invoice with trouble')
      await drain()
      const got = (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/notifications/${sent.id}` })).json()
      const busy = got.deliveries.find((d: { recipient: string }) => d.recipient === 'busy@example.com')
      const gone = got.deliveries.find((d: { recipient: string }) => d.recipient === 'gone@example.com')
      assert.equal(busy.status, 'delivered')
      assert.equal(busy.attempts, 2)
      // a refusal for good takes the bounce path: the primary contact had the invoice already, so no fallback
      assert.equal(gone.status, 'bounced')
      assert.equal(gone.attempts, 1)
      assert.match(gone.lastError, /550/)
      assert.equal(got.status, 'partially_failed')
      assert.deepEqual(receivedBy(sink, 'Invoice with trouble'), ['busy@example.com'])

      const health = (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/health` })).json()
      const problem = health.problems.find((p: { code: string }) => p.code === 'undeliverable-notifications')
      assert.ok(problem, JSON.stringify(health))
      assert.match(problem.message, /gone@example\.com/)
    })
  })
}

function receivedByOne(m: SmtpSink['messages'][number]): string | undefined {
  const to = Array.isArray(m.to) ? m.to[0] : m.to
  return to?.value[0]?.address?.toLowerCase()
}
