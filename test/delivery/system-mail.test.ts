import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { sql } from 'kysely'

import { PAGE_LABELS, SLOT_LABELS, SLOT_NOUNS } from '../../src/i18n/labels.ts'
import type { Clock } from '../../src/lib/clock.ts'
import { sendDueReviewReminders } from '../../src/reviews/review-reminders.ts'
import type { TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { makeAccount, sessionFor } from '../helpers/factories.ts'
import { appWithMail } from '../helpers/test-worker.ts'
import type { SmtpSink } from '../peers/smtp-sink.ts'

type Mail = SmtpSink['messages'][number]

const emailOf = (userId: string) => `${userId}@example.com`
const accountName = (accountId: string) => `Account ${accountId}` // as makeAccount names it

/** The category header every mail carries. */
const categoryOf = (m: Mail) => String(m.headers.get('x-account-contacts-category') ?? '')
const accountOf = (m: Mail) => String(m.headers.get('x-account-contacts-account') ?? '')
const addressesOf = (m: Mail) =>
  (Array.isArray(m.to) ? m.to : m.to ? [m.to] : []).flatMap((a) => a.value.map((v) => v.address!.toLowerCase()))

/** The mails of one category (for one account), by recipient. */
function mailsOf(sink: SmtpSink, category: string, accountId?: string): { to: string; mail: Mail }[] {
  return sink.messages
    .filter((m) => categoryOf(m) === category && (accountId === undefined || accountOf(m) === accountId))
    .flatMap((mail) => addressesOf(mail).map((to) => ({ to, mail })))
}
const recipientsOf = (sink: SmtpSink, category: string, accountId?: string) =>
  mailsOf(sink, category, accountId)
    .map((x) => x.to)
    .sort()

async function setPrimary(app: TestApp, accountId: string, userId: string, token?: string) {
  const res = await app.call({
    method: 'PUT',
    url: `/v1/accounts/${accountId}/contacts/primary`,
    payload: { userId },
    ...(token ? { token } : {}),
  })
  assert.equal(res.statusCode, 200, res.body)
}

async function addUser(app: TestApp, accountId: string, userId: string, role: string, extra: object = {}) {
  const res = await app.call({
    method: 'PUT',
    url: `/v1/accounts/${accountId}/users/${userId}`,
    payload: { email: emailOf(userId), name: `User ${userId}`, role, ...extra },
  })
  assert.ok(res.statusCode === 201 || res.statusCode === 200, res.body)
}

for (const kind of DATABASES) {
  describe(`[${kind}] system mail: contact changed, slots vacated, review reminders`, () => {
    test('when the primary contact moves from A to B, A is told (contact_changed) and B is not', async (t) => {
      const { app, sink, drain } = await appWithMail(t, kind)
      const { accountId, users } = await makeAccount(app, { extraUsers: 2 })
      const [a, b] = [users.u1!, users.u2!]
      await setPrimary(app, accountId, a)
      await drain()
      assert.deepEqual(recipientsOf(sink, 'contact_changed'), [], 'taking an empty slot tells nobody')

      await setPrimary(app, accountId, b)
      await drain()
      const changed = mailsOf(sink, 'contact_changed')
      assert.deepEqual(
        changed.map((x) => x.to),
        [emailOf(a)],
      )
      const { mail } = changed[0]!
      assert.ok(mail.subject?.includes(accountName(accountId)), mail.subject)
      assert.ok(mail.text?.includes(accountName(accountId)), mail.text)
      assert.match(mail.text ?? '', /no longer the primary account contact/)
      assert.ok(mail.text?.includes(`User u2 has taken over from you`), mail.text)
      assert.ok(
        !recipientsOf(sink, 'contact_changed').includes(emailOf(b)),
        'the new holder gets no contact_changed mail',
      )
      assert.deepEqual(addressesOf(mail), [emailOf(a)], 'one recipient per mail')

      // emptying the slot tells B, and says that nobody took over
      const del = await app.call({ method: 'DELETE', url: `/v1/accounts/${accountId}/contacts/primary` })
      assert.equal(del.statusCode, 200, del.body)
      await drain()
      const toB = mailsOf(sink, 'contact_changed').filter((x) => x.to === emailOf(b))
      assert.equal(toB.length, 1)
      assert.match(toB[0]!.mail.text ?? '', /No one has been chosen in your place/)
    })

    test('a change made by the previous holder themselves does not mail them', async (t) => {
      const { app, sink, drain } = await appWithMail(t, kind)
      const { accountId, users } = await makeAccount(app, { extraUsers: 1 })
      // A is a super admin, so A may change the sheet
      const a = users.admin!
      await setPrimary(app, accountId, a)
      await app.call({ method: 'POST', url: `/v1/accounts/${accountId}/contacts/billing`, payload: { userId: a } })
      const token = await sessionFor(app, accountId, a)

      await setPrimary(app, accountId, users.u1!, token)
      const removed = await app.call({
        method: 'DELETE',
        url: `/v1/accounts/${accountId}/contacts/billing/${a}`,
        token,
      })
      assert.equal(removed.statusCode, 200, removed.body)
      await drain()
      assert.deepEqual(recipientsOf(sink, 'contact_changed'), [])

      // the same change made by someone else does tell them
      await setPrimary(app, accountId, a)
      await setPrimary(app, accountId, users.u1!, await sessionFor(app, accountId, users.billing!))
      await drain()
      // u1 lost the slot to the platform's change, then A lost it to the billing admin's
      assert.deepEqual(recipientsOf(sink, 'contact_changed'), [emailOf(a), emailOf(users.u1!)].sort())
      const toA = mailsOf(sink, 'contact_changed').filter((x) => x.to === emailOf(a))
      assert.equal(toA.length, 1)
      assert.match(toA[0]!.mail.text ?? '', /The change was made by User billing\./)
    })

    test('deactivating the primary + billing contact mails every other active super admin (slots_vacated), not the deactivated user', async (t) => {
      const { app, sink, drain } = await appWithMail(t, kind)
      const { accountId, users } = await makeAccount(app)
      const leaving = 'admin-leaving'
      const second = 'admin-second'
      const gone = 'admin-gone'
      await addUser(app, accountId, leaving, 'super_admin')
      await addUser(app, accountId, second, 'super_admin')
      await addUser(app, accountId, gone, 'super_admin', { status: 'deactivated' })
      await setPrimary(app, accountId, leaving)
      await app.call({
        method: 'POST',
        url: `/v1/accounts/${accountId}/contacts/billing`,
        payload: { userId: users.billing },
      })
      await app.call({
        method: 'POST',
        url: `/v1/accounts/${accountId}/contacts/billing`,
        payload: { userId: leaving },
      })

      const res = await app.call({
        method: 'PATCH',
        url: `/v1/accounts/${accountId}/users/${leaving}`,
        payload: { status: 'deactivated' },
      })
      assert.equal(res.statusCode, 200, res.body)
      await drain()

      assert.deepEqual(recipientsOf(sink, 'slots_vacated'), [emailOf(users.admin!), emailOf(second)].sort())
      for (const { mail } of mailsOf(sink, 'slots_vacated')) {
        assert.ok(mail.subject?.includes(accountName(accountId)), mail.subject)
        assert.ok(mail.text?.includes(`User ${leaving}`), mail.text)
        assert.ok(mail.text?.includes(SLOT_LABELS.en.primary), mail.text)
        assert.ok(mail.text?.includes(SLOT_LABELS.en.billing), mail.text)
        assert.ok(mail.text?.includes('http://ui.test/ui/'), mail.text)
      }
      const toLeaving = sink.messages.filter((m) => addressesOf(m).includes(emailOf(leaving)))
      assert.deepEqual(toLeaving.map(categoryOf), [], 'the deactivated user gets no mail at all')

      // deactivating a user who held nothing tells nobody
      const before = sink.received()
      await app.call({
        method: 'PATCH',
        url: `/v1/accounts/${accountId}/users/${users.member}`,
        payload: { status: 'deactivated' },
      })
      await drain()
      assert.equal(sink.received(), before)
    })

    test('slots_vacated reaches every active super admin, even in an account with more than 100 of them', async (t) => {
      const { app, sink, drain } = await appWithMail(t, kind)
      const { accountId, users } = await makeAccount(app)
      // 120 more super admins, written directly (the host product's sync would PUT them one by one)
      await sql`
          insert into users (account_id, id, email, name, role, status)
          select ${accountId}, 'sa-' || lpad(i::text, 3, '0'), 'sa-' || lpad(i::text, 3, '0') || '@example.com', 'Admin ' || i, 'super_admin', 'active'
          from generate_series(1, 120) i`.execute(app.handle.db)
      await setPrimary(app, accountId, users.member!)
      const res = await app.call({
        method: 'PATCH',
        url: `/v1/accounts/${accountId}/users/${users.member}`,
        payload: { status: 'deactivated' },
      })
      assert.equal(res.statusCode, 200, res.body)
      await drain(30_000)
      assert.equal(recipientsOf(sink, 'slots_vacated').length, 121)
    })

    test('a Finnish account gets its system mail in Finnish', async (t) => {
      const { app, sink, drain } = await appWithMail(t, kind)
      const { accountId, users } = await makeAccount(app, { locale: 'fi', extraUsers: 2 })
      await setPrimary(app, accountId, users.u1!)
      await setPrimary(app, accountId, users.u2!)
      await app.call({
        method: 'PATCH',
        url: `/v1/accounts/${accountId}/users/${users.u2}`,
        payload: { status: 'deactivated' },
      })
      await drain()

      const [changed] = mailsOf(sink, 'contact_changed')
      assert.equal(changed?.to, emailOf(users.u1!))
      assert.match(changed!.mail.subject ?? '', /^Et ole enää tilin /)
      assert.ok(changed!.mail.text?.includes(SLOT_NOUNS.fi.primary), changed!.mail.text)
      assert.ok(changed!.mail.text?.includes(accountName(accountId)))
      assert.doesNotMatch(changed!.mail.text ?? '', /no longer/)

      const [vacated] = mailsOf(sink, 'slots_vacated')
      assert.equal(vacated?.to, emailOf(users.admin!))
      assert.match(vacated!.mail.subject ?? '', /^Valitse tilille /)
      assert.ok(vacated!.mail.text?.includes(SLOT_LABELS.fi.primary), vacated!.mail.text)
      assert.ok(
        vacated!.mail.text?.includes(`${PAGE_LABELS.fi.accountAndBilling} > ${PAGE_LABELS.fi.companyInformation}`),
        vacated!.mail.text,
      )
    })

    test('a Finnish contact_changed mail names a platform change in Finnish too', async (t) => {
      const { app, sink, drain } = await appWithMail(t, kind)
      const { accountId, users } = await makeAccount(app, { locale: 'fi', extraUsers: 2 })
      await setPrimary(app, accountId, users.u1!)
      await setPrimary(app, accountId, users.u2!)
      await drain()
      const [changed] = mailsOf(sink, 'contact_changed')
      assert.ok(changed)
      assert.doesNotMatch(changed.mail.text ?? '', /administrator|through the platform|the system/, changed.mail.text)
    })

    test('review reminders: one when due, none again the same day, one more 31 days later, none after a review', async (t) => {
      let now = new Date()
      const clock: Clock = { now: () => now }
      const advanceDays = (days: number) => {
        now = new Date(now.getTime() + days * 86_400_000)
      }
      const { app, sink, drain } = await appWithMail(t, kind, { clock })
      const remind = () =>
        sendDueReviewReminders({
          db: app.services.db,
          clock,
          policy: app.services.policy,
          intervalDays: 180,
          publicUrl: 'http://ui.test',
        })

      const due = await makeAccount(app)
      const fresh = await makeAccount(app)
      await setPrimary(app, due.accountId, due.users.member!) // reviewed now
      await setPrimary(app, fresh.accountId, fresh.users.member!)
      assert.equal(await remind(), 0, 'nothing is due yet')

      advanceDays(181)
      const review = await app.call({ method: 'POST', url: `/v1/accounts/${fresh.accountId}/contacts/review` })
      assert.equal(review.statusCode, 200, review.body)
      assert.equal(
        new Date(review.json().contactsReviewedAt).getTime(),
        now.getTime(),
        'the review is dated by the clock',
      )

      assert.equal(await remind(), 1)
      await drain()
      assert.deepEqual(recipientsOf(sink, 'contacts_review'), [emailOf(due.users.member!)])
      const [reminder] = mailsOf(sink, 'contacts_review')
      assert.equal(accountOf(reminder!.mail), due.accountId)
      assert.ok(reminder!.mail.text?.includes(accountName(due.accountId)), reminder!.mail.text)
      assert.ok(reminder!.mail.text?.includes('http://ui.test/ui/'), reminder!.mail.text)
      const stored = await sql<{ n: number }>`
        select count(*)::int as n from notifications where account_id = ${due.accountId} and category = 'contacts_review'`.execute(
        app.handle.db,
      )
      assert.equal(stored.rows[0]!.n, 1)

      assert.equal(await remind(), 0, 'not twice the same day')
      advanceDays(29)
      assert.equal(await remind(), 0, 'not within 30 days')
      advanceDays(2) // 31 days after the first reminder
      assert.equal(await remind(), 1)
      assert.equal(await remind(), 0)
      await drain()
      assert.deepEqual(recipientsOf(sink, 'contacts_review'), [emailOf(due.users.member!), emailOf(due.users.member!)])

      const reviewed = await app.call({ method: 'POST', url: `/v1/accounts/${due.accountId}/contacts/review` })
      assert.equal(reviewed.statusCode, 200, reviewed.body)
      assert.equal(await remind(), 0, 'no reminder right after a review')
      advanceDays(31)
      assert.equal(await remind(), 0, 'nor a month later: the review restarted the 180 days')
      await drain()
      assert.equal(recipientsOf(sink, 'contacts_review').length, 2)
    })

    test('a review reminder to a Finnish account is in Finnish', async (t) => {
      let now = new Date()
      const clock: Clock = { now: () => now }
      const { app, sink, drain } = await appWithMail(t, kind, { clock })
      const { accountId, users } = await makeAccount(app, { locale: 'fi' })
      await setPrimary(app, accountId, users.admin!)
      now = new Date(now.getTime() + 200 * 86_400_000)
      assert.equal(
        await sendDueReviewReminders({
          db: app.services.db,
          clock,
          policy: app.services.policy,
          intervalDays: 180,
          publicUrl: 'http://ui.test',
        }),
        1,
      )
      await drain()
      const [reminder] = mailsOf(sink, 'contacts_review')
      assert.equal(reminder?.to, emailOf(users.admin!))
      assert.match(reminder!.mail.subject ?? '', /yhteyshenkilöt ajan tasalla\?$/)
      assert.ok(reminder!.mail.text?.includes(SLOT_NOUNS.fi.billing), reminder!.mail.text)
      assert.ok(
        reminder!.mail.text?.includes(`${PAGE_LABELS.fi.accountAndBilling} > ${PAGE_LABELS.fi.companyInformation}`),
        reminder!.mail.text,
      )
    })

    test('only the verification mail carries a token, its own: a token mark in a name users chose mints none', async (t) => {
      const { app, sink, drain } = await appWithMail(t, kind)
      const { accountId, users } = await makeAccount(app)
      await setPrimary(app, accountId, users.admin!)
      const put = (email: string) =>
        app.call({ method: 'PUT', url: `/v1/accounts/${accountId}/contacts/security`, payload: { email } })
      assert.equal((await put('soc1@outside.example')).statusCode, 200)
      const { rows } = await sql<{
        id: string
      }>`select id from email_verifications where account_id = ${accountId}`.execute(app.handle.db)
      assert.equal(rows.length, 1)
      // the review's reproduction: a tenant admin names the account after a placeholder of the live
      // verification, and of the mark the verification mail itself holds
      const name = `Acme {{acv:${accountId}/${rows[0]!.id}}} {{verification-token}}`
      assert.equal(
        (await app.call({ method: 'PATCH', url: `/v1/accounts/${accountId}`, payload: { name } })).statusCode,
        200,
      )
      const test = await app.call({
        method: 'POST',
        url: `/v1/accounts/${accountId}/notifications/test`,
        payload: { category: 'account_update' },
      })
      assert.equal(test.statusCode, 202, test.body)
      assert.equal((await put('soc2@outside.example')).statusCode, 200)
      await drain()

      const tokensIn = (m: Mail) =>
        new Set(`${m.text ?? ''} ${m.html || ''}`.match(/acv_[\w-]+\.[\w-]+\.[\w-]+/g) ?? [])
      const tested = sink.messages.filter((m) => m.text?.includes('Acme'))
      assert.ok(tested.length >= 2, 'the test message and the second verification mail name the account')
      for (const m of sink.messages.filter((x) => categoryOf(x) !== 'verify_email')) {
        assert.deepEqual([...tokensIn(m)], [], `a ${categoryOf(m)} mail carries a token: ${m.text}`)
      }
      const verifications = mailsOf(sink, 'verify_email')
      assert.deepEqual(verifications.map((v) => v.to).sort(), ['soc1@outside.example', 'soc2@outside.example'])
      const [own] = verifications.filter((v) => v.to === 'soc2@outside.example').map((v) => [...tokensIn(v.mail)])
      assert.equal(own!.length, 1, `one token, its own: ${own}`)
      // and it is the live one: it verifies the address it was sent to
      const opened = await app.call({
        method: 'POST',
        url: '/v1/verify-email',
        payload: { token: own![0]! },
        token: null,
      })
      assert.equal(opened.statusCode, 200, opened.body)
      const sheet = (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/contacts` })).json()
      assert.deepEqual(sheet.security, { type: 'email', email: 'soc2@outside.example', verification: 'verified' })
    })
  })
}
