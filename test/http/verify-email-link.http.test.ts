import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { createSecretDeriver } from '../../src/lib/derived-secrets.ts'
import { buildTestApp, TEST_SECRET_KEY, type TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { getSheet, makeAccount } from '../helpers/factories.ts'

// The verification link verified on the GET, and mail security scanners open every link. Now the
// GET shows a page with a confirm button (a plain form, no script) and changes nothing; only the
// form's POST, with the token in its body, verifies: still single use, still 7 days.

const DAY = 24 * 60 * 60 * 1000
const FORM = 'application/x-www-form-urlencoded'

const movableClock = () => {
  let offset = 0
  return { now: () => new Date(Date.now() + offset), advance: (ms: number) => void (offset += ms) }
}

/** An account whose security slot waits for `email`, and the token of the link mailed to it. */
async function pendingAddress(app: TestApp, email: string, locale?: 'en' | 'fi') {
  const { accountId } = await makeAccount(app, locale ? { locale } : {})
  const res = await app.call({ method: 'PUT', url: `/v1/accounts/${accountId}/contacts/security`, payload: { email } })
  assert.equal(res.statusCode, 200, res.body)
  const v = await app.handle.db
    .selectFrom('email_verifications')
    .select('id')
    .where('account_id', '=', accountId)
    .executeTakeFirstOrThrow()
  return { accountId, token: createSecretDeriver(TEST_SECRET_KEY).verificationToken(accountId, v.id) }
}

const open = (app: TestApp, token: string) =>
  app.call({ method: 'GET', url: `/v1/verify-email?token=${encodeURIComponent(token)}`, token: null })
const confirm = (app: TestApp, token: string, headers: Record<string, string> = {}) =>
  app.call({
    method: 'POST',
    url: '/v1/verify-email',
    headers: { 'content-type': FORM, ...headers },
    payload: new URLSearchParams({ token }).toString(),
    token: null,
  })

const verification = async (app: TestApp, accountId: string) =>
  (await getSheet(app, accountId)).sheet.security.verification

function assertPage(res: { statusCode: number; headers: Record<string, unknown>; body: string }, status: number) {
  assert.equal(res.statusCode, status, res.body)
  assert.match(String(res.headers['content-type']), /^text\/html; charset=utf-8/)
  assert.match(String(res.headers['content-security-policy']), /script-src 'self'/)
  assert.equal(res.headers['cache-control'], 'no-store')
  assert.doesNotMatch(
    res.body,
    /<script|style=|\son[a-z]+=/i,
    'no script, inline style or handler: the CSP would block them',
  )
  assert.match(res.body, /<meta name="viewport" content="width=device-width, initial-scale=1">/)
}

for (const kind of DATABASES) {
  describe(`[${kind}] the verification link`, () => {
    test('GET shows a confirm button and leaves the address pending; the POST verifies, once', async (t) => {
      const app = await buildTestApp(t, kind)
      const { accountId, token } = await pendingAddress(app, 'soc@outside.example')
      const before = await getSheet(app, accountId)

      for (let i = 0; i < 2; i++) {
        const page = await open(app, token) // a scanner, then the person
        assert.equal(
          await verification(app, accountId),
          'pending',
          `opening the link must not verify the address (${page.statusCode})`,
        )
        assertPage(page, 200)
        assert.match(page.body, /Confirm that soc@outside\.example is the security contact of Account /)
        assert.match(
          page.body,
          /<form method="post" action="verify-email"><input type="hidden" name="token" value="([^"]+)"><button type="submit">Confirm<\/button><\/form>/,
        )
        assert.equal(/name="token" value="([^"]+)"/.exec(page.body)![1], token)
      }
      assert.equal(await verification(app, accountId), 'pending')
      assert.deepEqual(await getSheet(app, accountId), before, 'opening the link changed nothing')

      const done = await confirm(app, token)
      assertPage(done, 200)
      assert.match(done.body, /soc@outside\.example is now the verified security contact/)
      assert.doesNotMatch(done.body, /<form/)
      assert.equal(await verification(app, accountId), 'verified')

      const again = await confirm(app, token)
      assertPage(again, 400)
      assert.match(again.body, /not valid any more/)
      assertPage(await open(app, token), 400)
    })

    test('the page is in the account language, and a JSON post works as the form does', async (t) => {
      const app = await buildTestApp(t, kind)
      const { accountId, token } = await pendingAddress(app, 'tietoturva@outside.example', 'fi')
      const page = await open(app, token)
      assertPage(page, 200)
      assert.match(page.body, /<html lang="fi">/)
      assert.match(page.body, /<button type="submit">Vahvista<\/button>/)
      const res = await app.call({ method: 'POST', url: '/v1/verify-email', payload: { token }, token: null })
      assertPage(res, 200)
      assert.match(res.body.replaceAll('<wbr>', ''), /on nyt tilin .* vahvistettu turvallisuusyhteyshenkilö/)
      assert.equal(await verification(app, accountId), 'verified')
    })

    test('GET …/security/verification says when the link was sent and until when it works; a resend moves both', async (t) => {
      const clock = movableClock()
      const app = await buildTestApp(t, kind, { clock })
      const start = clock.now().getTime()
      const { accountId, token } = await pendingAddress(app, 'soc@outside.example')
      const end = clock.now().getTime()
      const read = () => app.call({ method: 'GET', url: `/v1/accounts/${accountId}/contacts/security/verification` })
      const first = (await read()).json()
      assert.equal(first.email, 'soc@outside.example')
      assert.ok(Date.parse(first.sentAt) >= start && Date.parse(first.sentAt) <= end, first.sentAt)
      assert.equal(Date.parse(first.expiresAt) - Date.parse(first.sentAt), 7 * DAY)

      // expired: still said, so that the page can say so and offer a new link
      clock.advance(8 * DAY)
      assert.deepEqual((await read()).json(), first)
      const resent = await app.call({
        method: 'POST',
        url: `/v1/accounts/${accountId}/contacts/security/resend-verification`,
      })
      assert.equal(resent.statusCode, 202, resent.body)
      const second = (await read()).json()
      assert.ok(Date.parse(second.sentAt) >= Date.parse(first.sentAt) + 8 * DAY, second.sentAt)
      assert.equal(Date.parse(second.expiresAt) - Date.parse(second.sentAt), 7 * DAY)

      // verified, there is no link waiting
      assertPage(await open(app, token), 400)
      const v = await app.handle.db
        .selectFrom('email_verifications')
        .select('id')
        .where('account_id', '=', accountId)
        .where('used_at', 'is', null)
        .executeTakeFirstOrThrow()
      const live = createSecretDeriver(TEST_SECRET_KEY).verificationToken(accountId, v.id)
      assertPage(await confirm(app, live), 200)
      const after = await read()
      assert.equal(after.statusCode, 409, after.body)
      assert.equal(after.json().code, 'conflict')
    })

    test('a tampered or expired token is refused on both, and changes nothing', async (t) => {
      const clock = movableClock()
      const app = await buildTestApp(t, kind, { clock })
      const { accountId, token } = await pendingAddress(app, 'soc@outside.example')
      const tampered = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A')
      assertPage(await open(app, tampered), 400)
      assertPage(await confirm(app, tampered), 400)
      assert.equal(await verification(app, accountId), 'pending')

      // the token in the URL of a POST is not read: it must be in the body
      const inQuery = await app.call({
        method: 'POST',
        url: `/v1/verify-email?token=${encodeURIComponent(token)}`,
        headers: { 'content-type': FORM },
        payload: '',
        token: null,
      })
      assert.equal(inQuery.statusCode, 400)
      assert.equal(inQuery.json().code, 'validation-failed')
      assert.equal(await verification(app, accountId), 'pending')

      clock.advance(7 * DAY + 60_000)
      assertPage(await open(app, token), 400)
      assertPage(await confirm(app, token), 400)
      assert.equal(await verification(app, accountId), 'pending')
    })

    test('an address replaced since the mail: the page offers nothing to confirm, and the post verifies nothing', async (t) => {
      const app = await buildTestApp(t, kind)
      const { accountId, token } = await pendingAddress(app, 'old@outside.example')
      assert.equal(
        (
          await app.call({
            method: 'PUT',
            url: `/v1/accounts/${accountId}/contacts/security`,
            payload: { email: 'new@outside.example' },
          })
        ).statusCode,
        200,
      )
      const page = await open(app, token)
      assertPage(page, 400)
      assert.doesNotMatch(page.body, /<form/)
      assertPage(await confirm(app, token), 400)
      assert.equal((await getSheet(app, accountId)).sheet.security.email, 'new@outside.example')
      assert.equal(await verification(app, accountId), 'pending')
    })
  })
}
