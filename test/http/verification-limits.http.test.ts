import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, test } from 'node:test'

import { importCsv } from '../../src/import/import.service.ts'
import { VERIFICATION_MAIL_LIMITS } from '../../src/verification/verification-limits.ts'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { getSheet, makeAccount, sessionFor } from '../helpers/factories.ts'

// M3 of the security review: any account admin could make the service mail outside addresses
// without limit (setting the security address, resend-verification). Now each verification mail
// is counted in the transaction that queues it (verification-limits.ts): per address, per caller
// and per account, each over a sliding window; past a limit the answer is 429
// verification-mail-limit with Retry-After, and nothing changes.

const MIN = 60_000
const limit = (scope: string, windowMs: number) =>
  VERIFICATION_MAIL_LIMITS.find((r) => r.scope === scope && r.windowMs === windowMs)!.max

/** A clock the test moves. */
const movableClock = () => {
  let offset = 0
  return { now: () => new Date(Date.now() + offset), advance: (ms: number) => void (offset += ms) }
}

/** How many verification mails the account has queued (one verification row each). */
const queued = async (app: TestApp, accountId: string) =>
  Number(
    (
      await app.handle.db
        .selectFrom('notifications')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('account_id', '=', accountId)
        .where('category', '=', 'verify_email')
        .executeTakeFirstOrThrow()
    ).n,
  )

const resend = (app: TestApp, accountId: string, token?: string) =>
  app.call({
    method: 'POST',
    url: `/v1/accounts/${accountId}/contacts/security/resend-verification`,
    ...(token ? { token } : {}),
  })

const setSecurity = (app: TestApp, accountId: string, email: string, token?: string) =>
  app.call({
    method: 'PUT',
    url: `/v1/accounts/${accountId}/contacts/security`,
    payload: { email },
    ...(token ? { token } : {}),
  })

function assertLimited(
  res: { statusCode: number; headers: Record<string, unknown>; json(): { code: string; detail: string } },
  what: string,
) {
  assert.equal(res.statusCode, 429, `${what}: ${res.statusCode} ${JSON.stringify(res.json())}`)
  assert.equal(res.json().code, 'verification-mail-limit', what)
  assert.match(String(res.headers['content-type']), /application\/problem\+json/)
  const retry = Number(res.headers['retry-after'])
  assert.ok(Number.isInteger(retry) && retry > 0, `${what}: Retry-After ${res.headers['retry-after']}`)
  return retry
}

for (const kind of DATABASES) {
  describe(`[${kind}] verification mail limits`, () => {
    test('per address: one mail in 10 minutes, three in 24 hours; a refused resend changes nothing', async (t) => {
      const clock = movableClock()
      const app = await buildTestApp(t, kind, { clock })
      const { accountId } = await makeAccount(app)
      assert.equal((await setSecurity(app, accountId, 'soc@outside.example')).statusCode, 200)
      assert.equal(await queued(app, accountId), 1)
      const sheet = await getSheet(app, accountId)

      const retry = assertLimited(await resend(app, accountId), 'a resend right after the first mail')
      assert.ok(retry > 9 * 60 && retry <= 10 * 60, `Retry-After ${retry} is the rest of the 10 minutes`)
      assert.equal(await queued(app, accountId), 1, 'no mail was queued')
      assert.deepEqual(await getSheet(app, accountId), sheet, 'the sheet is as it was')
      // the first link still works: the refused resend retired nothing
      const live = await app.handle.db
        .selectFrom('email_verifications')
        .select('id')
        .where('account_id', '=', accountId)
        .where('used_at', 'is', null)
        .execute()
      assert.equal(live.length, 1)

      clock.advance(10 * MIN + 1000)
      assert.equal((await resend(app, accountId)).statusCode, 202, 'after 10 minutes a resend goes')
      clock.advance(10 * MIN + 1000)
      assert.equal((await resend(app, accountId)).statusCode, 202)
      assert.equal(await queued(app, accountId), limit('address', 24 * 60 * MIN))
      clock.advance(10 * MIN + 1000)
      const dayRetry = assertLimited(await resend(app, accountId), 'the fourth mail to one address in a day')
      // the first of the three leaves the 24-hour window about 23.5 hours from now
      assert.ok(dayRetry > 23 * 3600 && dayRetry < 24 * 3600, `Retry-After ${dayRetry}`)
      assert.equal(await queued(app, accountId), 3)
      // typing the same address again sends nothing, and is not refused
      assert.equal((await setSecurity(app, accountId, 'SOC@outside.example')).statusCode, 200)
      clock.advance(dayRetry * 1000)
      assert.equal(
        (await resend(app, accountId)).statusCode,
        202,
        'a day after the first mail the address may have another',
      )
    })

    test("a send prunes the account's counts that no longer limit anything", async (t) => {
      const clock = movableClock()
      const app = await buildTestApp(t, kind, { clock })
      const { accountId } = await makeAccount(app)
      const keys = async () =>
        (
          await app.handle.db
            .selectFrom('verification_mail_limits')
            .select(['scope', 'key'])
            .where('account_id', '=', accountId)
            .execute()
        )
          .map((r) => `${r.scope}:${r.key}`)
          .sort()
      assert.equal((await setSecurity(app, accountId, 'old1@outside.example')).statusCode, 200)
      assert.equal((await setSecurity(app, accountId, 'old2@outside.example')).statusCode, 200)
      assert.equal((await keys()).filter((k) => k.startsWith('address:')).length, 2)
      clock.advance(24 * 60 * MIN + 1000) // past the longest window
      assert.equal((await setSecurity(app, accountId, 'new@outside.example')).statusCode, 200)
      assert.deepEqual(
        (await keys()).filter((k) => k.startsWith('address:')),
        ['address:new@outside.example'],
      )
    })

    test('per caller and per account: a new address over the limit is refused and the sheet keeps the old one', async (t) => {
      const clock = movableClock()
      const app = await buildTestApp(t, kind, { clock })
      const { accountId, users } = await makeAccount(app)
      const perCaller = limit('caller', 60 * MIN)
      const perAccount = limit('account', 24 * 60 * MIN)
      let n = 0
      for (let i = 0; i < perCaller; i++)
        assert.equal((await setSecurity(app, accountId, `a${n++}@outside.example`)).statusCode, 200)
      const before = await getSheet(app, accountId)
      assertLimited(await setSecurity(app, accountId, `a${n}@outside.example`), 'one caller past its hourly limit')
      assert.deepEqual(await getSheet(app, accountId), before, 'the refused change wrote nothing')
      assert.equal(before.sheet.security.email, `a${n - 1}@outside.example`)

      // other callers of the account go on, up to the account's daily limit
      const billing = await sessionFor(app, accountId, users.billing!)
      const admin = await sessionFor(app, accountId, users.admin!)
      while (n < perAccount) {
        const token = n < perCaller * 2 ? billing : admin
        assert.equal((await setSecurity(app, accountId, `a${n++}@outside.example`, token)).statusCode, 200, `mail ${n}`)
      }
      assert.equal(await queued(app, accountId), perAccount)
      clock.advance(61 * MIN) // every caller's hour is over; the account's day is not
      const sheet = await getSheet(app, accountId)
      assertLimited(await setSecurity(app, accountId, `a${n}@outside.example`), 'the account past its daily limit')
      assertLimited(
        await setSecurity(app, accountId, `b${n}@outside.example`, admin),
        'the account past its daily limit, another caller',
      )
      assert.deepEqual(await getSheet(app, accountId), sheet)
      assert.equal(await queued(app, accountId), perAccount)

      // another account is not affected: each account counts its own
      const other = await makeAccount(app)
      assert.equal((await setSecurity(app, other.accountId, 'a0@outside.example')).statusCode, 200)
    })

    test('a whole-sheet PUT to a new address is counted the same way', async (t) => {
      const app = await buildTestApp(t, kind)
      const { accountId } = await makeAccount(app)
      assert.equal((await setSecurity(app, accountId, 'soc@outside.example')).statusCode, 200)
      // away and back within 10 minutes: the address's second mail is refused, with the whole change
      const { etag } = await getSheet(app, accountId)
      const away = await app.call({
        method: 'PUT',
        url: `/v1/accounts/${accountId}/contacts`,
        headers: { 'if-match': etag },
        payload: { security: { email: 'x@outside.example' } },
      })
      assert.equal(away.statusCode, 200)
      const back = await getSheet(app, accountId)
      const res = await app.call({
        method: 'PUT',
        url: `/v1/accounts/${accountId}/contacts`,
        headers: { 'if-match': back.etag },
        payload: { security: { email: 'soc@outside.example' } },
      })
      assertLimited(res, 'the same address again within 10 minutes')
      assert.deepEqual(await getSheet(app, accountId), back)
    })

    test('a CSV import: the account over a limit is rejected with nothing of it written, the others land', async (t) => {
      const app = await buildTestApp(t, kind)
      const a = await makeAccount(app)
      const b = await makeAccount(app)
      assert.equal((await setSecurity(app, a.accountId, 'x@outside.example')).statusCode, 200)
      assert.equal((await setSecurity(app, a.accountId, 'y@outside.example')).statusCode, 200)
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'account-contacts-limits-'))
      t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
      const file = path.join(dir, 'sheets.csv')
      fs.writeFileSync(
        file,
        [
          'account_id,primary,billing_1,billing_2,billing_3,decision_maker,onboarding,security,technical_admin',
          `${a.accountId},${a.users.admin},,,,,,x@outside.example,`, // x had its mail minutes ago
          `${b.accountId},${b.users.admin},,,,,,z@outside.example,`,
        ].join('\n') + '\n',
      )
      const before = await getSheet(app, a.accountId)
      const summary = await importCsv(
        { db: app.services.db, users: app.services.users, contacts: app.services.contacts },
        { file, rejectsPath: path.join(dir, 'rejects.csv') },
      )
      assert.deepEqual([summary.changed, summary.rejected], [1, 1])
      assert.match(fs.readFileSync(path.join(dir, 'rejects.csv'), 'utf8'), /^2,verification-mail-limit,/m)
      assert.deepEqual(await getSheet(app, a.accountId), before, 'nothing of the refused account was written')
      assert.equal((await getSheet(app, b.accountId)).sheet.security.email, 'z@outside.example')
      assert.deepEqual([await queued(app, a.accountId), await queued(app, b.accountId)], [2, 1])
    })

    if (kind === 'postgres') {
      for (const isolation of ['read committed', 'repeatable read', 'serializable'] as const) {
        test(`40 concurrent resends queue at most the limit (${isolation})`, { timeout: 120_000 }, async (t) => {
          const clock = movableClock()
          const app = await buildTestApp(t, kind, { clock, isolation })
          const { accountId, users } = await makeAccount(app)
          assert.equal((await setSecurity(app, accountId, 'soc@outside.example')).statusCode, 200)
          clock.advance(10 * MIN + 1000)
          const tokens = [
            undefined,
            await sessionFor(app, accountId, users.billing!),
            await sessionFor(app, accountId, users.admin!),
          ]
          const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => resend(app, accountId, tokens[i % 3])))
          const codes = answers.map((r) => r.statusCode)
          assert.deepEqual([...new Set(codes)].sort(), [202, 429], `answers: ${codes.join(' ')}`)
          assert.equal(codes.filter((c) => c === 202).length, 1, 'one resend in 10 minutes')
          for (const r of answers.filter((a) => a.statusCode === 429))
            assert.equal(r.json().code, 'verification-mail-limit')
          assert.equal(await queued(app, accountId), 2)
        })
      }
    }
  })
}
