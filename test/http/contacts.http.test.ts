import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import type { LightMyRequestResponse } from 'fastify'

import { SLOT_NAMES } from '../../src/contacts/contact-slots.ts'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { getSheet, type MadeAccount, makeAccount, sessionFor } from '../helpers/factories.ts'
import { suiteScope } from '../helpers/suite-scope.ts'

// The contact sheet's happy paths over HTTP (docs/PRODUCT.md, "The contact sheet" and "Resources"). The refusals are in problems.http.test.ts.

/** The single-holder slots: path segment and field of the sheet. */
const SINGLE_SLOTS = [
  ['primary', 'primary'],
  ['decision-maker', 'decisionMaker'],
  ['onboarding', 'onboarding'],
  ['security', 'security'],
  ['technical-admin', 'technicalAdmin'],
] as const

interface AuditEvent {
  id: string
  at: string
  actor: { type: string; id: string }
  action: string
  before: unknown
  after: unknown
  requestId: string | null
}

/** The rules of an account that set none (slot-rules.ts): every slot inherits. */
const INHERIT_ALL = Object.fromEntries(SLOT_NAMES.map((slot) => [slot, 'inherit']))

/** How the sheet shows a user that `makeAccount` made (`key` is admin, billing, member, u1, ...). */
const userContact = (a: MadeAccount, key: string) => {
  const userId = a.users[key]!
  return { type: 'user', userId, email: `${userId}@example.com`, name: `User ${key}` }
}

/** Asserts a 200 with the sheet and an ETag of its version; returns the sheet. */
function okSheet(res: LightMyRequestResponse) {
  assert.equal(res.statusCode, 200, res.body)
  const sheet = res.json()
  assert.equal(res.headers.etag, `"${sheet.version}"`)
  return sheet
}

/** Every audit event of the account, newest first. */
async function auditEvents(t: TestApp, accountId: string, token?: string): Promise<AuditEvent[]> {
  const res = await t.call({
    method: 'GET',
    url: `/v1/accounts/${accountId}/audit-events?limit=200`,
    ...(token ? { token } : {}),
  })
  assert.equal(res.statusCode, 200, res.body)
  assert.equal(res.json().nextCursor, null)
  return res.json().data
}

const contactsUrl = (a: MadeAccount, rest = '') => `/v1/accounts/${a.accountId}/contacts${rest}`

for (const kind of DATABASES) {
  describe(`[${kind}] contact sheet API`, () => {
    // One application and database for the suite; each test makes its own account.
    const suite = suiteScope()
    let t: TestApp
    before(async () => {
      t = await buildTestApp(suite.scope, kind)
    })
    after(() => suite.close())

    test('GET answers the sheet with its version as the ETag', async () => {
      const a = await makeAccount(t)
      const res = await t.call({ method: 'GET', url: contactsUrl(a) })
      const sheet = okSheet(res)
      assert.deepEqual(sheet, {
        primary: null,
        billing: [],
        decisionMaker: null,
        onboarding: null,
        security: null,
        technicalAdmin: null,
        rules: INHERIT_ALL,
        contactsReviewedAt: null,
        version: sheet.version,
      })
      assert.ok(Number.isInteger(sheet.version))
      assert.equal(res.headers.etag, `"${sheet.version}"`)
    })

    test('each single slot is set to a user and cleared with DELETE', async () => {
      const a = await makeAccount(t, { extraUsers: 5 })
      let version = (await getSheet(t, a.accountId)).sheet.version as number
      for (const [i, [path, field]] of SINGLE_SLOTS.entries()) {
        const key = `u${i + 1}`
        const set = okSheet(
          await t.call({ method: 'PUT', url: contactsUrl(a, `/${path}`), payload: { userId: a.users[key] } }),
        )
        assert.deepEqual(set[field], userContact(a, key), path)
        assert.equal(set.version, ++version)
        assert.ok(set.contactsReviewedAt, 'a change sets contactsReviewedAt')
        assert.deepEqual((await getSheet(t, a.accountId)).sheet[field], userContact(a, key))

        const cleared = okSheet(await t.call({ method: 'DELETE', url: contactsUrl(a, `/${path}`) }))
        assert.equal(cleared[field], null, path)
        assert.equal(cleared.version, ++version)
      }
      const { sheet } = await getSheet(t, a.accountId)
      for (const [, field] of SINGLE_SLOTS) assert.equal(sheet[field], null)
    })

    test('billing contacts keep their order; removing the middle one keeps the others in order', async () => {
      const a = await makeAccount(t, { extraUsers: 2 })
      for (const [n, key] of ['u2', 'admin', 'u1'].entries()) {
        const sheet = okSheet(
          await t.call({ method: 'POST', url: contactsUrl(a, '/billing'), payload: { userId: a.users[key] } }),
        )
        assert.equal(sheet.billing.length, n + 1)
      }
      assert.deepEqual((await getSheet(t, a.accountId)).sheet.billing, [
        userContact(a, 'u2'),
        userContact(a, 'admin'),
        userContact(a, 'u1'),
      ])

      const removed = okSheet(await t.call({ method: 'DELETE', url: contactsUrl(a, `/billing/${a.users.admin}`) }))
      assert.deepEqual(removed.billing, [userContact(a, 'u2'), userContact(a, 'u1')])
      assert.deepEqual((await getSheet(t, a.accountId)).sheet.billing, [userContact(a, 'u2'), userContact(a, 'u1')])

      // the freed place can be taken again, at the end
      const again = okSheet(
        await t.call({ method: 'POST', url: contactsUrl(a, '/billing'), payload: { userId: a.users.admin } }),
      )
      assert.deepEqual(again.billing, [userContact(a, 'u2'), userContact(a, 'u1'), userContact(a, 'admin')])
    })

    test('PUT .../billing/{userId} puts another user in that place, the order kept', async () => {
      const a = await makeAccount(t, { extraUsers: 3 })
      for (const key of ['u1', 'u2', 'u3'])
        await t.call({ method: 'POST', url: contactsUrl(a, '/billing'), payload: { userId: a.users[key] } })
      const replaced = okSheet(
        await t.call({
          method: 'PUT',
          url: contactsUrl(a, `/billing/${a.users.u2}`),
          payload: { userId: a.users.admin },
        }),
      )
      assert.deepEqual(replaced.billing, [userContact(a, 'u1'), userContact(a, 'admin'), userContact(a, 'u3')])
      // by a user already in another place: refused; of a place nobody holds: not found; both change nothing
      const dup = await t.call({
        method: 'PUT',
        url: contactsUrl(a, `/billing/${a.users.u1}`),
        payload: { userId: a.users.u3 },
      })
      assert.equal(dup.statusCode, 409, dup.body)
      assert.equal(dup.json().code, 'duplicate-contact')
      const none = await t.call({
        method: 'PUT',
        url: contactsUrl(a, `/billing/${a.users.u2}`),
        payload: { userId: a.users.u2 },
      })
      assert.equal(none.statusCode, 404, none.body)
      // by itself: no change, no new version
      const same = okSheet(
        await t.call({ method: 'PUT', url: contactsUrl(a, `/billing/${a.users.u1}`), payload: { userId: a.users.u1 } }),
      )
      assert.equal(same.version, replaced.version)
      assert.deepEqual((await getSheet(t, a.accountId)).sheet.billing, replaced.billing)
    })

    test('PUT with the current ETag replaces the whole sheet and bumps the version', async () => {
      const a = await makeAccount(t, { extraUsers: 3 })
      await t.call({ method: 'PUT', url: contactsUrl(a, '/primary'), payload: { userId: a.users.admin } })
      await t.call({ method: 'PUT', url: contactsUrl(a, '/onboarding'), payload: { userId: a.users.u1 } })
      await t.call({ method: 'POST', url: contactsUrl(a, '/billing'), payload: { userId: a.users.billing } })
      await t.call({ method: 'POST', url: contactsUrl(a, '/billing'), payload: { userId: a.users.u2 } })
      const { sheet: before, etag } = await getSheet(t, a.accountId)

      const res = await t.call({
        method: 'PUT',
        url: contactsUrl(a),
        headers: { 'if-match': etag },
        payload: {
          primary: { userId: a.users.u3 },
          billing: [{ userId: a.users.u2 }, { userId: a.users.admin }, { userId: a.users.billing }],
          decisionMaker: { userId: a.users.admin },
          security: { email: 'soc@outside.example.org' },
          technicalAdmin: null,
          // onboarding absent: emptied
        },
      })
      const sheet = okSheet(res)
      assert.equal(sheet.version, before.version + 1)
      assert.deepEqual(
        { ...sheet, contactsReviewedAt: null },
        {
          primary: userContact(a, 'u3'),
          billing: [userContact(a, 'u2'), userContact(a, 'admin'), userContact(a, 'billing')],
          decisionMaker: userContact(a, 'admin'),
          onboarding: null,
          security: { type: 'email', email: 'soc@outside.example.org', verification: 'pending' },
          technicalAdmin: null,
          rules: INHERIT_ALL,
          contactsReviewedAt: null,
          version: before.version + 1,
        },
      )
      assert.deepEqual((await getSheet(t, a.accountId)).sheet, sheet)

      // `*` matches any version; an empty body empties the sheet
      const emptied = okSheet(
        await t.call({ method: 'PUT', url: contactsUrl(a), headers: { 'if-match': '*' }, payload: {} }),
      )
      assert.equal(emptied.version, sheet.version + 1)
      assert.equal(emptied.primary, null)
      assert.deepEqual(emptied.billing, [])
      assert.equal(emptied.security, null)
    })

    test('a security email of an active user of the account is stored as that user', async () => {
      const a = await makeAccount(t)
      const typed = `${a.users.member}@EXAMPLE.com`.toUpperCase()
      const sheet = okSheet(
        await t.call({ method: 'PUT', url: contactsUrl(a, '/security'), payload: { email: typed } }),
      )
      assert.deepEqual(sheet.security, userContact(a, 'member'))
    })

    test('an outside security address starts pending, and typing it again keeps its verification', async () => {
      const a = await makeAccount(t)
      const first = okSheet(
        await t.call({
          method: 'PUT',
          url: contactsUrl(a, '/security'),
          payload: { email: 'Sec@Outside.example.org' },
        }),
      )
      assert.deepEqual(first.security, { type: 'email', email: 'Sec@Outside.example.org', verification: 'pending' })

      // As if the link in the verification mail had been opened.
      await t.handle.db
        .updateTable('contact_slots')
        .set({ verification: 'verified' })
        .where('account_id', '=', a.accountId)
        .where('slot', '=', 'security')
        .execute()
      const events = (await auditEvents(t, a.accountId)).length

      const again = okSheet(
        await t.call({
          method: 'PUT',
          url: contactsUrl(a, '/security'),
          payload: { email: 'sec@outside.example.org' },
        }),
      )
      assert.equal(again.security.verification, 'verified')
      assert.equal(again.version, first.version, 'the same address again is no change')

      const { etag } = await getSheet(t, a.accountId)
      const whole = okSheet(
        await t.call({
          method: 'PUT',
          url: contactsUrl(a),
          headers: { 'if-match': etag },
          payload: { security: { email: 'Sec@Outside.example.org' } },
        }),
      )
      assert.equal(whole.security.verification, 'verified')
      assert.equal(whole.version, first.version)
      assert.equal((await auditEvents(t, a.accountId)).length, events)

      const other = okSheet(
        await t.call({
          method: 'PUT',
          url: contactsUrl(a, '/security'),
          payload: { email: 'other@outside.example.org' },
        }),
      )
      assert.deepEqual(other.security, { type: 'email', email: 'other@outside.example.org', verification: 'pending' })
    })

    test('POST .../contacts/review sets contactsReviewedAt', async () => {
      const a = await makeAccount(t)
      const { sheet: before } = await getSheet(t, a.accountId)
      assert.equal(before.contactsReviewedAt, null)
      const startedAt = Date.now()
      const reviewed = okSheet(await t.call({ method: 'POST', url: contactsUrl(a, '/review') }))
      assert.ok(reviewed.contactsReviewedAt)
      assert.ok(Date.parse(reviewed.contactsReviewedAt) >= startedAt - 5_000)
      assert.equal(reviewed.version, before.version + 1)
      assert.equal((await getSheet(t, a.accountId)).sheet.contactsReviewedAt, reviewed.contactsReviewedAt)
      const account = await t.call({ method: 'GET', url: `/v1/accounts/${a.accountId}` })
      assert.equal(account.json().contactsReviewedAt, reviewed.contactsReviewedAt)
      assert.equal((await auditEvents(t, a.accountId))[0]!.action, 'contacts.reviewed')
    })

    test('every change appends exactly one audit event; a change that changes nothing appends none', async () => {
      const a = await makeAccount(t)
      const keyId = await t.services.apiKeys.authenticate(t.apiKey)
      let count = (await auditEvents(t, a.accountId)).length

      const set = await t.call({
        method: 'PUT',
        url: contactsUrl(a, '/primary'),
        headers: { 'x-request-id': `set-primary-${kind}` },
        payload: { userId: a.users.admin },
      })
      const afterSet = okSheet(set)
      let events = await auditEvents(t, a.accountId)
      assert.equal(events.length, ++count)
      const ev = events[0]!
      assert.equal(ev.action, 'contacts.updated')
      assert.deepEqual(ev.actor, { type: 'api_key', id: keyId })
      assert.equal(ev.requestId, `set-primary-${kind}`)
      assert.ok(ev.id && !Number.isNaN(Date.parse(ev.at)))
      assert.equal((ev.before as { primary: unknown }).primary, null)
      assert.deepEqual(ev.after, afterSet)

      // the same primary again: no change, no event, no new version
      const same = okSheet(
        await t.call({ method: 'PUT', url: contactsUrl(a, '/primary'), payload: { userId: a.users.admin } }),
      )
      assert.equal(same.version, afterSet.version)
      assert.equal((await auditEvents(t, a.accountId)).length, count)
      // emptying an empty slot, and a whole-sheet PUT of what is there, change nothing either
      okSheet(await t.call({ method: 'DELETE', url: contactsUrl(a, '/onboarding') }))
      okSheet(
        await t.call({
          method: 'PUT',
          url: contactsUrl(a),
          headers: { 'if-match': `"${same.version}"` },
          payload: { primary: { userId: a.users.admin } },
        }),
      )
      assert.equal((await getSheet(t, a.accountId)).sheet.version, afterSet.version)
      assert.equal((await auditEvents(t, a.accountId)).length, count)

      // each of these is one change and one event, newest first
      const changes: [string, () => Promise<LightMyRequestResponse>][] = [
        [
          'add billing',
          () => t.call({ method: 'POST', url: contactsUrl(a, '/billing'), payload: { userId: a.users.billing } }),
        ],
        [
          'set onboarding',
          () => t.call({ method: 'PUT', url: contactsUrl(a, '/onboarding'), payload: { userId: a.users.member } }),
        ],
        ['remove billing', () => t.call({ method: 'DELETE', url: contactsUrl(a, `/billing/${a.users.billing}`) })],
        ['clear primary', () => t.call({ method: 'DELETE', url: contactsUrl(a, '/primary') })],
      ]
      for (const [what, change] of changes) {
        const sheet = okSheet(await change())
        events = await auditEvents(t, a.accountId)
        assert.equal(events.length, ++count, what)
        assert.equal(events[0]!.action, 'contacts.updated', what)
        assert.deepEqual(events[0]!.after, sheet, what)
        assert.equal((events[0]!.before as { version: number }).version, sheet.version - 1, what)
        assert.ok(events[0]!.requestId, what)
      }
      for (let i = 1; i < events.length; i++) assert.ok(events[i - 1]!.at >= events[i]!.at, 'newest first')
    })

    test('audit events page by cursor: every event exactly once, newest first', async () => {
      const a = await makeAccount(t, { extraUsers: 2 })
      for (const key of ['admin', 'billing', 'u1']) {
        okSheet(await t.call({ method: 'POST', url: contactsUrl(a, '/billing'), payload: { userId: a.users[key] } }))
      }
      okSheet(await t.call({ method: 'PUT', url: contactsUrl(a, '/primary'), payload: { userId: a.users.u2 } }))
      const all = await auditEvents(t, a.accountId)
      assert.ok(all.length >= 5, `only ${all.length} events`)

      const paged: AuditEvent[] = []
      let cursor: string | null = null
      let pages = 0
      do {
        const url: string = `/v1/accounts/${a.accountId}/audit-events?limit=2${cursor ? `&cursor=${cursor}` : ''}`
        const res = await t.call({ method: 'GET', url })
        assert.equal(res.statusCode, 200, res.body)
        const page = res.json() as { data: AuditEvent[]; nextCursor: string | null }
        assert.ok(page.data.length <= 2)
        paged.push(...page.data)
        cursor = page.nextCursor
        assert.ok(++pages <= all.length, 'pagination does not end')
      } while (cursor)
      assert.deepEqual(
        paged.map((e) => e.id),
        all.map((e) => e.id),
      )
      assert.equal(new Set(paged.map((e) => e.id)).size, paged.length)
      assert.equal(pages, Math.ceil(all.length / 2), 'a full last page has no next cursor')
    })

    test('audit events leave out the actions named in ?exclude=, across pages; an unknown action is 400', async () => {
      const a = await makeAccount(t, { extraUsers: 1 })
      for (let i = 0; i < 3; i++) {
        await sessionFor(t, a.accountId, a.users.admin!)
        okSheet(
          await t.call({
            method: 'PUT',
            url: contactsUrl(a, '/primary'),
            payload: { userId: a.users[i % 2 ? 'u1' : 'admin'] },
          }),
        )
      }
      const all = await auditEvents(t, a.accountId)
      assert.equal(all.filter((e) => e.action === 'session.created').length, 3)
      const kept = all.filter((e) => e.action !== 'session.created' && e.action !== 'user.created')
      const paged: AuditEvent[] = []
      let cursor: string | null = null
      do {
        const url: string = `/v1/accounts/${a.accountId}/audit-events?limit=2&exclude=session.created&exclude=user.created${cursor ? `&cursor=${cursor}` : ''}`
        const res = await t.call({ method: 'GET', url })
        assert.equal(res.statusCode, 200, res.body)
        paged.push(...res.json().data)
        cursor = res.json().nextCursor
      } while (cursor)
      assert.deepEqual(
        paged.map((e) => e.id),
        kept.map((e) => e.id),
      )
      const bad = await t.call({ method: 'GET', url: `/v1/accounts/${a.accountId}/audit-events?exclude=no.such` })
      assert.equal(bad.statusCode, 400, bad.body)
    })

    test('a billing admin may change the contacts; a member may read them', async () => {
      const a = await makeAccount(t)
      const billingToken = await sessionFor(t, a.accountId, a.users.billing!)
      const memberToken = await sessionFor(t, a.accountId, a.users.member!)

      const set = okSheet(
        await t.call({
          method: 'PUT',
          url: contactsUrl(a, '/primary'),
          payload: { userId: a.users.admin },
          token: billingToken,
        }),
      )
      assert.deepEqual(set.primary, userContact(a, 'admin'))
      const added = okSheet(
        await t.call({
          method: 'POST',
          url: contactsUrl(a, '/billing'),
          payload: { userId: a.users.billing },
          token: billingToken,
        }),
      )
      assert.deepEqual(added.billing, [userContact(a, 'billing')])
      const events = await auditEvents(t, a.accountId, memberToken)
      assert.deepEqual(events[0]!.actor, { type: 'user', id: a.users.billing })

      const read = okSheet(await t.call({ method: 'GET', url: contactsUrl(a), token: memberToken }))
      assert.deepEqual(read, added)
      const health = await t.call({ method: 'GET', url: `/v1/accounts/${a.accountId}/health`, token: memberToken })
      assert.equal(health.statusCode, 200, health.body)
    })

    test('health lists no-primary-contact and no-billing-contact until they are set', async () => {
      const a = await makeAccount(t)
      const codes = async () => {
        const res = await t.call({ method: 'GET', url: `/v1/accounts/${a.accountId}/health` })
        assert.equal(res.statusCode, 200, res.body)
        const body = res.json() as { accountId: string; ok: boolean; problems: { code: string; message: string }[] }
        assert.equal(body.accountId, a.accountId)
        for (const p of body.problems) assert.ok(p.message.length > 0)
        assert.equal(body.ok, body.problems.length === 0)
        return body.problems.map((p) => p.code).sort()
      }
      assert.deepEqual(await codes(), ['no-billing-contact', 'no-primary-contact'])
      okSheet(await t.call({ method: 'PUT', url: contactsUrl(a, '/primary'), payload: { userId: a.users.admin } }))
      assert.deepEqual(await codes(), ['no-billing-contact'])
      okSheet(await t.call({ method: 'POST', url: contactsUrl(a, '/billing'), payload: { userId: a.users.billing } }))
      assert.deepEqual(await codes(), [])
    })
  })
}
