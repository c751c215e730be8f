import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { getSheet, makeAccount } from '../helpers/factories.ts'

// L5 of the security review: names kept characters that make a mail header read differently
// from what was stored, and addresses passed that SMTP cannot carry without quoting. Each form is
// sent through every route that takes a name or an address; each must be refused with
// validation-failed and change nothing.

/** Names that must be refused, by what is wrong with them. */
const BAD_NAMES: Record<string, string> = {
  'NEL (U+0085)': 'Ann\u0085Bcc',
  'a C1 control (U+009B)': 'Ann\u009b31m',
  'line separator (U+2028)': 'Ann\u2028Other',
  'paragraph separator (U+2029)': 'Ann\u2029Other',
  'right-to-left override (U+202E)': 'Admin \u202egnp.exe',
  'left-to-right embedding (U+202A)': 'Ann \u202aX',
  'first strong isolate (U+2068)': 'Ann \u2068X\u2069',
  'an RFC 2047 encoded-word': '=?utf-8?Q?Evil=0D=0ABcc:_v4@evil.example?=',
  'an encoded-word in base64, inside text': 'Hello =?UTF-8?B?QmNjOiBldmls?= there',
}

/** Addresses that must be refused. */
const BAD_EMAILS: Record<string, string> = {
  'a 65-character local part': `${'x'.repeat(65)}@example.com`,
  'a leading dot': '.ann@example.com',
  'a trailing dot': 'ann.@example.com',
  'two dots in a row': 'a..nn@example.com',
  'a single-label domain': 'ann@example',
  'a one-letter single-label domain': 'a@b',
}

/** Names and addresses that stay allowed. */
const GOOD_NAMES = [
  'Äiti Öljynen',
  "Seán O'Brien",
  'שלום עולם',
  'what =? this is ?= not a word',
  'Ann\u200fX (a mark, not an override)',
]
const GOOD_EMAILS = [`${'x'.repeat(64)}@example.com`, "o'brien+tag@sub.example.fi", 'a.b.c@x.io']

const assertRefused = (res: { statusCode: number; json(): { code: string } }, what: string) => {
  assert.equal(res.statusCode, 400, `${what}: ${res.statusCode}`)
  assert.equal(res.json().code, 'validation-failed', what)
}

for (const kind of DATABASES) {
  describe(`[${kind}] names and addresses a mail header can carry`, () => {
    let app: TestApp

    test('names: refused on account create and rename, user create and update; nothing changes', async (t) => {
      app = await buildTestApp(t, kind)
      const { accountId, users } = await makeAccount(app)
      const before = {
        account: (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}` })).json(),
        user: (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/users/${users.member}` })).json(),
      }
      for (const [what, name] of Object.entries(BAD_NAMES)) {
        assertRefused(
          await app.call({ method: 'POST', url: '/v1/accounts', payload: { id: 'bad-name', name } }),
          `account create, ${what}`,
        )
        assertRefused(
          await app.call({ method: 'PATCH', url: `/v1/accounts/${accountId}`, payload: { name } }),
          `account rename, ${what}`,
        )
        assertRefused(
          await app.call({
            method: 'PUT',
            url: `/v1/accounts/${accountId}/users/newbie`,
            payload: { email: 'newbie@example.com', name, role: 'member' },
          }),
          `user create, ${what}`,
        )
        assertRefused(
          await app.call({
            method: 'PATCH',
            url: `/v1/accounts/${accountId}/users/${users.member}`,
            payload: { name },
          }),
          `user rename, ${what}`,
        )
      }
      assert.equal((await app.call({ method: 'GET', url: '/v1/accounts/bad-name' })).statusCode, 404)
      assert.equal((await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/users/newbie` })).statusCode, 404)
      assert.deepEqual((await app.call({ method: 'GET', url: `/v1/accounts/${accountId}` })).json(), before.account)
      assert.deepEqual(
        (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/users/${users.member}` })).json(),
        before.user,
      )

      for (const name of GOOD_NAMES) {
        const res = await app.call({
          method: 'PATCH',
          url: `/v1/accounts/${accountId}/users/${users.member}`,
          payload: { name },
        })
        assert.equal(res.statusCode, 200, `${JSON.stringify(name)}: ${res.body}`)
        assert.equal(res.json().name, name)
      }
    })

    test('addresses: refused for a user and for the security contact; nothing changes', async (t) => {
      app = await buildTestApp(t, kind)
      const { accountId, users } = await makeAccount(app)
      const sheetBefore = await getSheet(app, accountId)
      const userBefore = (
        await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/users/${users.member}` })
      ).json()
      for (const [what, email] of Object.entries(BAD_EMAILS)) {
        assertRefused(
          await app.call({
            method: 'PUT',
            url: `/v1/accounts/${accountId}/users/newbie`,
            payload: { email, name: 'Newbie', role: 'member' },
          }),
          `user create, ${what}`,
        )
        assertRefused(
          await app.call({
            method: 'PATCH',
            url: `/v1/accounts/${accountId}/users/${users.member}`,
            payload: { email },
          }),
          `user update, ${what}`,
        )
        assertRefused(
          await app.call({ method: 'PUT', url: `/v1/accounts/${accountId}/contacts/security`, payload: { email } }),
          `security contact, ${what}`,
        )
        assertRefused(
          await app.call({
            method: 'PUT',
            url: `/v1/accounts/${accountId}/contacts`,
            headers: { 'if-match': sheetBefore.etag },
            payload: { security: { email } },
          }),
          `whole sheet, ${what}`,
        )
      }
      assert.equal((await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/users/newbie` })).statusCode, 404)
      assert.deepEqual(
        (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/users/${users.member}` })).json(),
        userBefore,
      )
      assert.deepEqual(await getSheet(app, accountId), sheetBefore)

      for (const email of GOOD_EMAILS) {
        const res = await app.call({
          method: 'PUT',
          url: `/v1/accounts/${accountId}/users/u-${GOOD_EMAILS.indexOf(email)}`,
          payload: { email, name: 'Good', role: 'member' },
        })
        assert.equal(res.statusCode, 201, `${email}: ${res.body}`)
      }
    })
  })
}
