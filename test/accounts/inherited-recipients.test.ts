import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { DATABASES } from '../helpers/databases.ts'
import { makeAccount, putSheet } from '../helpers/factories.ts'
import { mailParts } from '../helpers/mail-parts.ts'
import { appWithMail } from '../helpers/test-worker.ts'

/*
 * An inherited recipient is a user of the ancestor it comes from, and user ids are per account: a
 * child may have a user with the same id. The recipient names the account its user id belongs to,
 * and what is looked up of the user (the language of the mail's "why" line, of the "Not the right
 * person?" page) is looked up there, not in the child.
 */
for (const kind of DATABASES) {
  describe(`[${kind}] an inherited recipient's user`, () => {
    test("is the ancestor's user: named with its account, written to in its own language, and its admins told of a request", async (t) => {
      const { app, sink, drain } = await appWithMail(t, kind)
      const parent = await makeAccount(app)
      const child = await makeAccount(app, { parentAccountId: parent.accountId })
      // the same user id in both accounts: a Finnish speaker in the parent, an English one in the child
      const put = (accountId: string, email: string, locale: 'fi' | 'en') =>
        app.call({
          method: 'PUT',
          url: `/v1/accounts/${accountId}/users/same`,
          payload: { email, name: `Same of ${accountId}`, role: 'member', locale },
        })
      assert.equal((await put(parent.accountId, 'kirjanpito@parent.example', 'fi')).statusCode, 201)
      assert.equal((await put(child.accountId, 'someone@child.example', 'en')).statusCode, 201)
      await putSheet(app, parent.accountId, { primary: { userId: parent.users.admin }, billing: [{ userId: 'same' }] })
      await putSheet(app, child.accountId, { primary: { userId: child.users.admin } })

      const preview = (
        await app.call({ method: 'GET', url: `/v1/accounts/${child.accountId}/recipients?category=invoice` })
      ).json()
      const inherited = preview.recipients.find((r: { email: string }) => r.email === 'kirjanpito@parent.example')
      assert.equal(inherited.userId, 'same')
      assert.equal(inherited.userAccountId, parent.accountId)
      // the child's own holder is its own user: no account named
      const own = preview.recipients.find((r: { email: string }) => r.email === `${child.users.admin}@example.com`)
      assert.equal(own.userAccountId, undefined)

      const sent = await app.call({
        method: 'POST',
        url: `/v1/accounts/${child.accountId}/notifications`,
        payload: { category: 'invoice', subject: 'Invoice 9', text: 'Due in 14 days.' },
      })
      assert.equal(sent.statusCode, 202, sent.body)
      await drain()
      const mail = sink.messages.find(
        (m) => m.subject === 'Invoice 9' && JSON.stringify(m.to).includes('kirjanpito@parent.example'),
      )
      assert.match(mailParts(mail?.text).why ?? '', /^Saat tämän viestin, koska olet tilin /)
      // the stored notification keeps it, for the history and the "Not the right person?" page
      const got = (
        await app.call({ method: 'GET', url: `/v1/accounts/${child.accountId}/notifications/${sent.json().id}` })
      ).json()
      const stored = got.recipients.find((r: { email: string }) => r.email === 'kirjanpito@parent.example')
      assert.equal(stored.userAccountId, parent.accountId)
      const link = new URL(mailParts(mail?.text).link!)
      const page = await app.app.inject({ method: 'GET', url: `${link.pathname}${link.search}` })
      assert.equal(page.statusCode, 200)
      assert.match(page.body, /<html lang="fi">/)

      // "not me": the request is the child's (its mail), and the parent's admins, who set the
      // contact, are told too, with a link to the child's page where the request is
      const token = link.searchParams.get('token')!
      const filed = await app.app.inject({
        method: 'POST',
        url: '/v1/not-the-right-person',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ token, reason: 'not_me' }).toString(),
      })
      assert.equal(filed.statusCode, 200, filed.body)
      await drain()
      // each in their account's language (English): not the recipient's, which is Finnish
      const told = (who: string) =>
        sink.messages.filter(
          (m) => /says they are the wrong one/.test(m.subject ?? '') && JSON.stringify(m.to).includes(who),
        )
      assert.equal(told(`${child.users.admin}@example.com`).length, 1)
      const toParent = told(`${parent.users.admin}@example.com`)
      assert.equal(toParent.length, 1)
      assert.match(toParent[0]!.subject ?? '', new RegExp(`A contact of Account ${parent.accountId} `))
      assert.ok(toParent[0]!.text?.includes(`/ui/?account=${child.accountId}`), toParent[0]!.text)
      assert.match(toParent[0]!.text ?? '', /the billing contact of the account/)
      const requests = (
        await app.call({ method: 'GET', url: `/v1/accounts/${child.accountId}/correction-requests` })
      ).json()
      assert.equal(requests.data.length, 1)
      const atParent = (
        await app.call({ method: 'GET', url: `/v1/accounts/${parent.accountId}/correction-requests` })
      ).json()
      assert.deepEqual(atParent.data, [])
    })
  })
}
