import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { sql } from 'kysely'

import { CORRECTION_REQUESTS_PER_DAY } from '../../src/corrections/corrections.service.ts'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { getSheet, makeAccount, putSheet } from '../helpers/factories.ts'
import { mailParts } from '../helpers/mail-parts.ts'
import { testWorker } from '../helpers/test-worker.ts'
import { type SmtpSink, startSmtpSink } from '../peers/smtp-sink.ts'

/*
 * "Why you got this" and "Not the right person?" (issue 15): every account mail ends with why its
 * recipient gets it, in their language, and a link of its own; the link's page files a request
 * for the admins (a mail, an audit event, a webhook event, the page's banner) and changes no contact.
 */

const to = (m: SmtpSink['messages'][number]) =>
  (Array.isArray(m.to) ? m.to : m.to ? [m.to] : []).flatMap((a) => a.value.map((v) => v.address!.toLowerCase()))

const mailTo = (sink: SmtpSink, subject: string, address: string) => {
  const m = sink.messages.find((x) => x.subject === subject && to(x).includes(address.toLowerCase()))
  assert.ok(m, `no "${subject}" to ${address}`)
  return m
}

/** The token of a link in a mail (the path and query the page is opened at). */
const pathOf = (link: string | undefined) => {
  assert.ok(link, 'the mail has a "Not the right person?" link')
  const u = new URL(link)
  return { url: `${u.pathname}${u.search}`, token: u.searchParams.get('token')! }
}

const open = (app: TestApp, url: string) => app.app.inject({ method: 'GET', url })
const post = (app: TestApp, form: Record<string, string>) =>
  app.app.inject({
    method: 'POST',
    url: '/v1/not-the-right-person',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(form).toString(),
  })

async function counts(app: TestApp) {
  const r = await sql<{ requests: number; audit: number; events: number; notifications: number }>`
    select (select count(*) from correction_requests)::int as requests,
      (select count(*) from audit_events where action like 'contacts.correction%')::int as audit,
      (select count(*) from events where type = 'contacts.correction_requested')::int as events,
      (select count(*) from notifications)::int as notifications`.execute(app.handle.db)
  return r.rows[0]!
}

async function setUp(t: Parameters<typeof buildTestApp>[0], kind: (typeof DATABASES)[number]) {
  const app = await buildTestApp(t, kind)
  const sink = await startSmtpSink()
  t.after(() => sink.close())
  const { drain } = testWorker(t, app, { smtpUrl: sink.url })
  const { accountId, users } = await makeAccount(app)
  const [admin, billing, member] = [users.admin!, users.billing!, users.member!]
  await putSheet(app, accountId, { primary: { userId: admin }, billing: [{ userId: member }, { userId: billing }] })
  const send = async (subject: string, category = 'invoice') => {
    const r = await app.call({
      method: 'POST',
      url: `/v1/accounts/${accountId}/notifications`,
      payload: {
        category,
        subject,
        text: 'Your invoice is attached.',
        html: '<html><body><p>Your invoice.</p></body></html>',
      },
    })
    assert.equal(r.statusCode, 202, r.body)
    await drain()
  }
  return { app, sink, drain, accountId, admin, billing, member, send }
}

for (const kind of DATABASES) {
  describe(`[${kind}] not the right person`, () => {
    test('each recipient is told why, in their language, with a link of their own', async (t) => {
      const { app, sink, accountId, billing, member, send } = await setUp(t, kind)
      await app.call({ method: 'PATCH', url: `/v1/accounts/${accountId}/users/${billing}`, payload: { locale: 'fi' } })
      await send('Invoice 1')
      const name = `Account ${accountId}`
      const en = mailParts(mailTo(sink, 'Invoice 1', `${member}@example.com`).text)
      assert.equal(en.platform, 'Your invoice is attached.')
      assert.equal(en.why, `You receive this as billing contact of ${name}.`)
      const fi = mailParts(mailTo(sink, 'Invoice 1', `${billing}@example.com`).text)
      assert.equal(fi.why, `Saat tämän viestin, koska olet tilin ${name} laskutusyhteyshenkilö.`)
      // each delivery's own link
      assert.notEqual(pathOf(en.link).token, pathOf(fi.link).token)
      // the HTML part says it too, inside its body
      const html = mailTo(sink, 'Invoice 1', `${member}@example.com`).html as string
      assert.match(html, /You receive this as billing contact of .*<\/a><\/p>\n<\/body>/s)
    })

    test('the page asks and changes nothing; the answer tells the admins once and changes no contact', async (t) => {
      const { app, sink, drain, accountId, admin, member, send } = await setUp(t, kind)
      await send('Invoice 2')
      const link = pathOf(mailParts(mailTo(sink, 'Invoice 2', `${member}@example.com`).text).link)
      const before = await counts(app)
      const sheetBefore = await getSheet(app, accountId)

      // opening it (as a mail scanner does) files nothing
      const page = await open(app, link.url)
      assert.equal(page.statusCode, 200)
      assert.equal(page.headers['cache-control'], 'no-store')
      assert.match(page.body, /The message “Invoice 2” came to/)
      assert.match(page.body, /<input type="radio" name="reason" id="reason-left" value="left" required>/)
      // no answer is chosen for the reader: pressing Send alone must not file "not me"
      assert.doesNotMatch(page.body, / checked/)
      assert.deepEqual(await counts(app), before)

      // a post without an answer (a browser that skips `required`, or a hand-made one) is refused
      const noAnswer = await post(app, { token: link.token, suggestedEmail: '', note: '' })
      assert.equal(noAnswer.statusCode, 400, noAnswer.body)
      assert.equal(noAnswer.json().code, 'validation-failed')
      assert.deepEqual(await counts(app), before)

      // "someone else" without an address: asked again, nothing filed
      const noAddress = await post(app, { token: link.token, reason: 'someone_else', suggestedEmail: '' })
      assert.equal(noAddress.statusCode, 400)
      assert.match(noAddress.body, /role="alert"/)
      assert.match(noAddress.body, /id="reason-someone_else" value="someone_else" required checked/)
      assert.deepEqual(await counts(app), before)

      const done = await post(app, {
        token: link.token,
        reason: 'someone_else',
        suggestedEmail: 'new.billing@example.com',
        note: 'I moved to sales.\nAsk Mikko.',
      })
      assert.equal(done.statusCode, 200, done.body)
      assert.match(done.body, /Thank you\. The administrators of/)
      await drain()
      const after = await counts(app)
      assert.equal(after.requests, before.requests + 1)
      assert.equal(after.audit, before.audit + 1)
      assert.equal(after.events, before.events + 1)
      // the super admin's mail names the address, the role, the mail and the suggestion
      const told = mailTo(
        sink,
        `A contact of Account ${accountId} says they are the wrong one: ${member}@example.com`,
        `${admin}@example.com`,
      )
      assert.match(
        told.text ?? '',
        new RegExp(
          `the billing contact of the account Account ${accountId}, received “Invoice 2” and says someone else should receive these`,
        ),
      )
      assert.match(told.text ?? '', /They suggest: new\.billing@example\.com/)
      assert.match(told.text ?? '', /Their note: “I moved to sales\. Ask Mikko\.”/)
      assert.deepEqual(await getSheet(app, accountId), sheetBefore)

      // the link works once
      const again = await post(app, { token: link.token, reason: 'left' })
      assert.equal(again.statusCode, 200)
      assert.match(again.body, /used already/)
      assert.match((await open(app, link.url)).body, /used already/)
      assert.deepEqual(await counts(app), { ...after, notifications: after.notifications })

      // the API lists it, an admin dismisses it (audited, once), and it leaves the open list
      const list = (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/correction-requests` })).json()
      assert.equal(list.data.length, 1)
      const r = list.data[0]
      assert.deepEqual(
        [r.email, r.slots, r.reason, r.suggestedEmail, r.subject, r.status],
        [`${member}@example.com`, ['billing'], 'someone_else', 'new.billing@example.com', 'Invoice 2', 'open'],
      )
      const dismiss = () =>
        app.call({ method: 'POST', url: `/v1/accounts/${accountId}/correction-requests/${r.id}/dismiss` })
      assert.equal((await dismiss()).json().status, 'dismissed')
      assert.equal((await dismiss()).statusCode, 200)
      assert.equal((await counts(app)).audit, after.audit + 1)
      const open2 = (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/correction-requests` })).json()
      assert.deepEqual(open2.data, [])
      const all = (
        await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/correction-requests?status=all` })
      ).json()
      assert.equal(all.data.length, 1)
      const missing = await app.call({
        method: 'POST',
        url: `/v1/accounts/${accountId}/correction-requests/crq_nope/dismiss`,
      })
      assert.equal(missing.statusCode, 404)
    })

    test('a suppressed admin is not written to; the request is filed all the same', async (t) => {
      const { app, sink, drain, accountId, admin, member, send } = await setUp(t, kind)
      await send('Invoice 5')
      const link = pathOf(mailParts(mailTo(sink, 'Invoice 5', `${member}@example.com`).text).link)
      await app.handle.db
        .insertInto('suppressions')
        .values({ account_id: accountId, email: `${admin}@example.com`, reason: '550 5.1.1', delivery_id: null })
        .execute()
      const before = sink.messages.length
      assert.equal((await post(app, { token: link.token, reason: 'left' })).statusCode, 200)
      await drain()
      assert.equal(sink.messages.length, before)
      assert.equal((await counts(app)).requests, 1)
    })

    test('a forged, altered or too old link files nothing', async (t) => {
      const { app, sink, accountId, member, send } = await setUp(t, kind)
      await send('Invoice 3')
      const link = pathOf(mailParts(mailTo(sink, 'Invoice 3', `${member}@example.com`).text).link)
      const before = await counts(app)
      const [prefix, , sig] = link.token.split('.')
      // the same signature on another delivery of the account
      const other = `${prefix}.${Buffer.from(`${accountId}-x`).toString('base64url')}.${sig}`
      // the last character changed (to another one: a token that happens to end in A stays itself)
      const altered = `${link.token.slice(0, -1)}${link.token.endsWith('A') ? 'Q' : 'A'}`
      for (const token of [altered, other, 'acr_x.y.zzzzzzzzzzzzzzzzzzzzzz']) {
        const r = await post(app, { token, reason: 'not_me' })
        assert.equal(r.statusCode, 400, token)
        assert.match(r.body, /not valid any more/)
        assert.equal((await open(app, `/v1/not-the-right-person?token=${token}`)).statusCode, 400)
      }
      await sql`update deliveries set created_at = now() - interval '61 days' where account_id = ${accountId}`.execute(
        app.handle.db,
      )
      assert.equal((await post(app, { token: link.token, reason: 'not_me' })).statusCode, 400)
      assert.deepEqual(await counts(app), before)
    })

    test(`an account takes at most ${CORRECTION_REQUESTS_PER_DAY} requests a day`, async (t) => {
      const { app, sink, accountId, member, send } = await setUp(t, kind)
      await send('Invoice 4')
      const link = pathOf(mailParts(mailTo(sink, 'Invoice 4', `${member}@example.com`).text).link)
      for (let i = 0; i < CORRECTION_REQUESTS_PER_DAY; i++)
        await sql`insert into correction_requests (account_id, id, delivery_id, category, subject, email, slots, reason)
          values (${accountId}, ${`crq_${i}`}, ${`d${i}`}, 'invoice', 's', 'x@example.com', '{billing}', 'left')`.execute(
          app.handle.db,
        )
      const r = await post(app, { token: link.token, reason: 'left' })
      assert.equal(r.statusCode, 429)
      assert.match(r.body, /many such requests today/)
      assert.equal((await counts(app)).requests, CORRECTION_REQUESTS_PER_DAY)
    })

    test('our own mail and test messages carry no such line', async (t) => {
      const { app, sink, drain, accountId, member } = await setUp(t, kind)
      const r = await app.call({
        method: 'POST',
        url: `/v1/accounts/${accountId}/notifications/test`,
        payload: { category: 'invoice' },
      })
      assert.ok([200, 202].includes(r.statusCode), r.body)
      await drain()
      const m = sink.messages.find((x) => to(x).includes(`${member}@example.com`))
      assert.ok(m, 'the test message went out')
      assert.equal(mailParts(m.text).link, undefined)
    })
  })
}
