import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import type { LightMyRequestResponse } from 'fastify'

import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { getSheet, makeAccount, sessionFor } from '../helpers/factories.ts'
import { suiteScope } from '../helpers/suite-scope.ts'

// Every problem code of docs/PRODUCT.md, "Errors" (except the idempotency ones), triggered over HTTP: the status,
// the RFC 9457 shape with the request id, and for refused writes that nothing changed.

interface ProblemBody {
  type: string
  code: string
  title: string
  status: number
  detail: string
  requestId: string
  errors?: { path: string; message: string }[]
}

/** Asserts that `res` is the problem `code` with `status`, carrying the request id, and returns it. */
function assertProblem(res: LightMyRequestResponse, status: number, code: string): ProblemBody {
  assert.equal(res.statusCode, status, `expected ${status} ${code}, got ${res.statusCode}: ${res.body}`)
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/)
  const body = res.json() as ProblemBody
  assert.equal(body.type, `/problems/${code}`)
  assert.equal(body.code, code)
  assert.equal(body.status, status)
  for (const field of ['title', 'detail', 'requestId'] as const) {
    assert.equal(typeof body[field], 'string', `${field} is missing`)
    assert.ok(body[field].length > 0, `${field} is empty`)
  }
  assert.equal(body.requestId, res.headers['x-request-id'])
  return body
}

/** Asserts a validation problem with an `errors[]` entry at `path` (a JSON pointer into the request). */
function assertFieldError(res: LightMyRequestResponse, path: string, message?: RegExp) {
  const body = assertProblem(res, 400, 'validation-failed')
  assert.ok(Array.isArray(body.errors) && body.errors.length > 0, `no errors[] in ${res.body}`)
  for (const e of body.errors!) {
    assert.equal(typeof e.path, 'string')
    assert.equal(typeof e.message, 'string')
  }
  const hit = body.errors!.find((e) => e.path === path)
  assert.ok(hit, `no error at ${path}: ${JSON.stringify(body.errors)}`)
  if (message) assert.match(hit.message, message)
  return body
}

/** Everything a refused request could have touched in an account, read through the API. */
async function snapshot(t: TestApp, accountId: string) {
  const read = async (url: string) => {
    const res = await t.call({ method: 'GET', url })
    assert.equal(res.statusCode, 200, `${url}: ${res.body}`)
    return res.json()
  }
  const { sheet, etag } = await getSheet(t, accountId)
  return {
    sheet,
    etag,
    account: await read(`/v1/accounts/${accountId}`),
    users: await read(`/v1/accounts/${accountId}/users?limit=200`),
    audit: await read(`/v1/accounts/${accountId}/audit-events?limit=200`),
  }
}

/** Runs `request` and asserts that it changed nothing in the account; returns its response. */
async function unchanged(t: TestApp, accountId: string, request: () => Promise<LightMyRequestResponse>) {
  const before = await snapshot(t, accountId)
  const res = await request()
  assert.deepEqual(await snapshot(t, accountId), before, 'a refused request changed the account')
  return res
}

const accountCount = async (t: TestApp) => {
  const res = await t.call({ method: 'GET', url: '/v1/accounts?limit=200' })
  return (res.json() as { data: unknown[] }).data.length
}

for (const kind of DATABASES) {
  describe(`[${kind}] problems`, () => {
    // One application and database for the suite; each test makes its own accounts.
    const suite = suiteScope()
    let t: TestApp
    before(async () => {
      t = await buildTestApp(suite.scope, kind)
    })
    after(() => suite.close())

    // --- 400 validation-failed -------------------------------------------------------------------

    test('validation-failed: an unknown field in a body', async () => {
      const countBefore = await accountCount(t)
      const res = await t.call({
        method: 'POST',
        url: '/v1/accounts',
        payload: { id: `unk-${Date.now()}`, name: 'Acme', nickname: 'A' },
      })
      assertFieldError(res, '/body/nickname', /not a known field/)
      assert.equal(await accountCount(t), countBefore)

      const a = await makeAccount(t)
      const put = await unchanged(t, a.accountId, async () => {
        const { etag } = await getSheet(t, a.accountId)
        return t.call({
          method: 'PUT',
          url: `/v1/accounts/${a.accountId}/contacts`,
          headers: { 'if-match': etag },
          payload: { primary: { userId: a.users.admin }, vip: { userId: a.users.admin } },
        })
      })
      assertFieldError(put, '/body/vip', /not a known field/)
    })

    test('validation-failed: an email address that is not valid', async () => {
      const a = await makeAccount(t)
      const user = await unchanged(t, a.accountId, () =>
        t.call({
          method: 'PUT',
          url: `/v1/accounts/${a.accountId}/users/bad-email`,
          payload: { email: 'not-an-email', name: 'Bad', role: 'member' },
        }),
      )
      assertFieldError(user, '/body/email', /email/)
      const slot = await unchanged(t, a.accountId, () =>
        t.call({
          method: 'PUT',
          url: `/v1/accounts/${a.accountId}/contacts/security`,
          payload: { email: 'not-an-email' },
        }),
      )
      assertFieldError(slot, '/body/email')
    })

    test('validation-failed: an email address of 255 characters (254 is the limit)', async () => {
      const a = await makeAccount(t)
      // only the length is wrong: a 64-character local part (SMTP's limit) and labels of at most 63
      const address = (length: number) => {
        const labels = Array.from({ length: 4 }, () => 'b'.repeat(63)).join('.')
        const domain = `${labels.slice(0, length - 65 - '.example'.length)}.example`
        assert.doesNotMatch(domain, /\.\./)
        return `${'a'.repeat(64)}@${domain}`
      }
      const tooLong = address(255)
      assert.equal(tooLong.length, 255)
      const res = await unchanged(t, a.accountId, () =>
        t.call({
          method: 'PUT',
          url: `/v1/accounts/${a.accountId}/users/long-email`,
          payload: { email: tooLong, name: 'Long', role: 'member' },
        }),
      )
      assertFieldError(res, '/body/email')
      const security = await unchanged(t, a.accountId, () =>
        t.call({ method: 'PUT', url: `/v1/accounts/${a.accountId}/contacts/security`, payload: { email: tooLong } }),
      )
      assertFieldError(security, '/body/email')

      const longest = address(254)
      assert.equal(longest.length, 254)
      const ok = await t.call({
        method: 'PUT',
        url: `/v1/accounts/${a.accountId}/users/longest-email`,
        payload: { email: longest, name: 'Longest', role: 'member' },
      })
      assert.equal(ok.statusCode, 201, ok.body)
    })

    test('validation-failed: CR/LF in a user name', async () => {
      const a = await makeAccount(t)
      const created = await unchanged(t, a.accountId, () =>
        t.call({
          method: 'PUT',
          url: `/v1/accounts/${a.accountId}/users/crlf`,
          payload: { email: 'crlf@example.com', name: 'Eve\r\nBcc: all@example.com', role: 'member' },
        }),
      )
      assertFieldError(created, '/body/name')
      const patched = await unchanged(t, a.accountId, () =>
        t.call({
          method: 'PATCH',
          url: `/v1/accounts/${a.accountId}/users/${a.users.member}`,
          payload: { name: 'Mallory\nX' },
        }),
      )
      assertFieldError(patched, '/body/name')
    })

    test('validation-failed: an id outside ^[A-Za-z0-9_-]{1,64}$ in a path or a body', async () => {
      const a = await makeAccount(t)
      const badUser = await unchanged(t, a.accountId, () =>
        t.call({
          method: 'PUT',
          url: `/v1/accounts/${a.accountId}/users/bad!id`,
          payload: { email: 'bang@example.com', name: 'Bang', role: 'member' },
        }),
      )
      assertFieldError(badUser, '/params/userId')
      assertFieldError(await t.call({ method: 'GET', url: `/v1/accounts/${'a'.repeat(65)}` }), '/params/accountId')
      assertFieldError(await t.call({ method: 'GET', url: '/v1/accounts/a.b/contacts' }), '/params/accountId')
      const billing = await unchanged(t, a.accountId, () =>
        t.call({ method: 'DELETE', url: `/v1/accounts/${a.accountId}/contacts/billing/${'u'.repeat(65)}` }),
      )
      assertFieldError(billing, '/params/userId')
      const countBefore = await accountCount(t)
      assertFieldError(
        await t.call({ method: 'POST', url: '/v1/accounts', payload: { id: 'has space', name: 'Spaced' } }),
        '/body/id',
      )
      assert.equal(await accountCount(t), countBefore)
    })

    // --- 401 unauthenticated ---------------------------------------------------------------------

    test('unauthenticated: no token', async () => {
      const a = await makeAccount(t)
      const res = await unchanged(t, a.accountId, () =>
        t.call({
          method: 'PUT',
          url: `/v1/accounts/${a.accountId}/contacts/primary`,
          payload: { userId: a.users.admin },
          token: null,
        }),
      )
      assertProblem(res, 401, 'unauthenticated')
      assert.equal(res.headers['www-authenticate'], 'Bearer')
      const list = await t.call({ method: 'GET', url: '/v1/accounts', token: null })
      assertProblem(list, 401, 'unauthenticated')
      assert.equal(list.headers['www-authenticate'], 'Bearer')
    })

    test('unauthenticated: a garbage token', async () => {
      const a = await makeAccount(t)
      for (const token of ['garbage', 'acpk_notarealkeyatall', `acs_${a.accountId}.notarealsecret`, 'acs_']) {
        const res = await t.call({ method: 'GET', url: `/v1/accounts/${a.accountId}/contacts`, token })
        assertProblem(res, 401, 'unauthenticated')
        assert.equal(res.headers['www-authenticate'], 'Bearer')
      }
      const basic = await t.call({
        method: 'GET',
        url: '/v1/accounts',
        token: null,
        headers: { authorization: 'Basic dXNlcjpwYXNz' },
      })
      assertProblem(basic, 401, 'unauthenticated')
    })

    test('unauthenticated: a revoked platform key', async () => {
      const a = await makeAccount(t)
      const { id, key } = await t.services.apiKeys.create('to be revoked')
      assert.equal((await t.call({ method: 'GET', url: `/v1/accounts/${a.accountId}`, token: key })).statusCode, 200)
      const revoked = await t.services.apiKeys.revoke(id)
      assert.equal(revoked.length, 1)
      const res = await unchanged(t, a.accountId, () =>
        t.call({
          method: 'PUT',
          url: `/v1/accounts/${a.accountId}/contacts/primary`,
          payload: { userId: a.users.admin },
          token: key,
        }),
      )
      assertProblem(res, 401, 'unauthenticated')
      assert.equal(res.headers['www-authenticate'], 'Bearer')
    })

    test('unauthenticated: the session of a user who was deactivated since', async () => {
      const a = await makeAccount(t)
      const token = await sessionFor(t, a.accountId, a.users.billing!)
      assert.equal(
        (await t.call({ method: 'GET', url: `/v1/accounts/${a.accountId}/contacts`, token })).statusCode,
        200,
      )
      const off = await t.call({
        method: 'PATCH',
        url: `/v1/accounts/${a.accountId}/users/${a.users.billing}`,
        payload: { status: 'deactivated' },
      })
      assert.equal(off.statusCode, 200, off.body)
      const res = await unchanged(t, a.accountId, () =>
        t.call({
          method: 'PUT',
          url: `/v1/accounts/${a.accountId}/contacts/primary`,
          payload: { userId: a.users.admin },
          token,
        }),
      )
      assertProblem(res, 401, 'unauthenticated')
    })

    // --- 403 forbidden ---------------------------------------------------------------------------

    test('forbidden: a member may not set a contact', async () => {
      const a = await makeAccount(t)
      const token = await sessionFor(t, a.accountId, a.users.member!)
      const res = await unchanged(t, a.accountId, () =>
        t.call({
          method: 'PUT',
          url: `/v1/accounts/${a.accountId}/contacts/primary`,
          payload: { userId: a.users.member },
          token,
        }),
      )
      assertProblem(res, 403, 'forbidden')
    })

    test('forbidden: a user session may not list accounts', async () => {
      const a = await makeAccount(t)
      const token = await sessionFor(t, a.accountId, a.users.admin!)
      assertProblem(await t.call({ method: 'GET', url: '/v1/accounts', token }), 403, 'forbidden')
    })

    // --- 404 not-found ---------------------------------------------------------------------------

    test('not-found: a missing account, with the platform key', async () => {
      assertProblem(await t.call({ method: 'GET', url: `/v1/accounts/missing-${Date.now()}` }), 404, 'not-found')
      assertProblem(
        await t.call({ method: 'GET', url: `/v1/accounts/missing-${Date.now()}/contacts` }),
        404,
        'not-found',
      )
    })

    test("not-found: another account's id with a user session, exactly like a missing one", async () => {
      const a = await makeAccount(t)
      const b = await makeAccount(t)
      const token = await sessionFor(t, a.accountId, a.users.admin!)
      const foreign = assertProblem(
        await t.call({ method: 'GET', url: `/v1/accounts/${b.accountId}/contacts`, token }),
        404,
        'not-found',
      )
      const missing = assertProblem(
        await t.call({ method: 'GET', url: `/v1/accounts/nope-${Date.now()}/contacts`, token }),
        404,
        'not-found',
      )
      assert.deepEqual(Object.keys(foreign).sort(), Object.keys(missing).sort())
      assert.equal(foreign.title, missing.title)
      const write = await unchanged(t, b.accountId, () =>
        t.call({
          method: 'PUT',
          url: `/v1/accounts/${b.accountId}/contacts/primary`,
          payload: { userId: b.users.admin },
          token,
        }),
      )
      assertProblem(write, 404, 'not-found')
    })

    test('not-found: an unknown route, with or without a token', async () => {
      assertProblem(await t.call({ method: 'GET', url: '/v1/no-such-thing' }), 404, 'not-found')
      assertProblem(await t.call({ method: 'GET', url: '/v1/no-such-thing', token: null }), 404, 'not-found')
      assertProblem(await t.call({ method: 'POST', url: '/v2/accounts', payload: {} }), 404, 'not-found')
    })

    // --- 412 version-mismatch --------------------------------------------------------------------

    test('version-mismatch: replacing the sheet with a stale If-Match', async () => {
      const a = await makeAccount(t)
      const { etag: stale } = await getSheet(t, a.accountId)
      await t.call({
        method: 'PUT',
        url: `/v1/accounts/${a.accountId}/contacts/primary`,
        payload: { userId: a.users.admin },
      })
      const current = (await getSheet(t, a.accountId)).etag
      assert.notEqual(current, stale)
      const res = await unchanged(t, a.accountId, () =>
        t.call({
          method: 'PUT',
          url: `/v1/accounts/${a.accountId}/contacts`,
          headers: { 'if-match': stale },
          payload: { primary: { userId: a.users.billing }, billing: [{ userId: a.users.billing }] },
        }),
      )
      assertProblem(res, 412, 'version-mismatch')
      assert.equal(res.headers.etag, current)
      // the whole sheet is what it writes: the primary contact set meanwhile is its conflict
      assert.deepEqual(
        res.json().conflicts.map((c: { slot: string }) => c.slot),
        ['primary'],
      )
    })

    test('version-mismatch: setting one slot with a stale If-Match', async () => {
      const a = await makeAccount(t)
      const { etag: stale } = await getSheet(t, a.accountId)
      await t.call({
        method: 'POST',
        url: `/v1/accounts/${a.accountId}/contacts/billing`,
        payload: { userId: a.users.billing },
      })
      const res = await unchanged(t, a.accountId, () =>
        t.call({
          method: 'PUT',
          url: `/v1/accounts/${a.accountId}/contacts/primary`,
          headers: { 'if-match': stale },
          payload: { userId: a.users.admin },
        }),
      )
      assertProblem(res, 412, 'version-mismatch')
      // only billing changed: nothing this write changes conflicts, and it may be sent again as it is
      assert.deepEqual(res.json().conflicts, [])
      assert.match(res.json().detail, /nothing this request changes was changed/)
      const again = await t.call({
        method: 'PUT',
        url: `/v1/accounts/${a.accountId}/contacts/primary`,
        headers: { 'if-match': res.headers.etag as string },
        payload: { userId: a.users.admin },
      })
      assert.equal(again.statusCode, 200, again.body)
    })

    test('version-mismatch: a slot changed meanwhile says who set it to whom, and when', async () => {
      const a = await makeAccount(t)
      const { etag: stale } = await getSheet(t, a.accountId)
      const token = await sessionFor(t, a.accountId, a.users.admin!)
      const set = await t.call({
        method: 'PUT',
        url: `/v1/accounts/${a.accountId}/contacts/primary`,
        payload: { userId: a.users.billing },
        token,
      })
      assert.equal(set.statusCode, 200, set.body)
      // and a change of another slot after it, which is no conflict of a primary write
      await t.call({
        method: 'PUT',
        url: `/v1/accounts/${a.accountId}/contacts/onboarding`,
        payload: { userId: a.users.member },
      })
      const res = await unchanged(t, a.accountId, () =>
        t.call({
          method: 'DELETE',
          url: `/v1/accounts/${a.accountId}/contacts/primary`,
          headers: { 'if-match': stale },
        }),
      )
      assertProblem(res, 412, 'version-mismatch')
      const [conflict, ...more] = res.json().conflicts
      assert.deepEqual(more, [])
      assert.equal(conflict.slot, 'primary')
      assert.deepEqual(conflict.actor, { type: 'user', id: a.users.admin, name: 'User admin' })
      assert.deepEqual(conflict.holders, [{ name: 'User billing', email: `${a.users.billing}@example.com` }])
      assert.equal(conflict.rule, 'inherit')
      assert.ok(Math.abs(Date.parse(conflict.at) - Date.now()) < 60_000, conflict.at)
      assert.match(res.json().detail, /Primary account contact: User billing <.*>.*set by User admin at /)
    })

    test('version-mismatch: an If-Match that names no version of the sheet, or several, gets no conflicts', async () => {
      const a = await makeAccount(t)
      // at version 3: none of these tags is the current one
      for (const userId of [a.users.admin, a.users.billing])
        await t.call({ method: 'PUT', url: `/v1/accounts/${a.accountId}/contacts/primary`, payload: { userId } })
      for (const tag of ['"999"', 'W/"1"', '"1", "2"', '"abc"']) {
        const res = await t.call({
          method: 'PUT',
          url: `/v1/accounts/${a.accountId}/contacts/primary`,
          headers: { 'if-match': tag },
          payload: { userId: a.users.billing },
        })
        assertProblem(res, 412, 'version-mismatch')
        assert.equal(res.json().conflicts, undefined, tag)
      }
    })

    // --- 409 billing-contact-limit, duplicate-contact --------------------------------------------

    test('billing-contact-limit: a fourth billing contact', async () => {
      const a = await makeAccount(t, { extraUsers: 2 })
      for (const u of ['admin', 'billing', 'u1']) {
        const r = await t.call({
          method: 'POST',
          url: `/v1/accounts/${a.accountId}/contacts/billing`,
          payload: { userId: a.users[u] },
        })
        assert.equal(r.statusCode, 200, r.body)
      }
      const res = await unchanged(t, a.accountId, () =>
        t.call({
          method: 'POST',
          url: `/v1/accounts/${a.accountId}/contacts/billing`,
          payload: { userId: a.users.u2 },
        }),
      )
      assertProblem(res, 409, 'billing-contact-limit')
      assert.equal((await getSheet(t, a.accountId)).sheet.billing.length, 3)
    })

    test('billing-contact-limit: a sheet with four billing contacts', async () => {
      const a = await makeAccount(t, { extraUsers: 2 })
      const res = await unchanged(t, a.accountId, async () => {
        const { etag } = await getSheet(t, a.accountId)
        return t.call({
          method: 'PUT',
          url: `/v1/accounts/${a.accountId}/contacts`,
          headers: { 'if-match': etag },
          payload: {
            primary: { userId: a.users.admin },
            billing: ['admin', 'billing', 'u1', 'u2'].map((u) => ({ userId: a.users[u] })),
          },
        })
      })
      assertProblem(res, 409, 'billing-contact-limit')
    })

    test('duplicate-contact: adding the same billing contact twice', async () => {
      const a = await makeAccount(t)
      const first = await t.call({
        method: 'POST',
        url: `/v1/accounts/${a.accountId}/contacts/billing`,
        payload: { userId: a.users.billing },
      })
      assert.equal(first.statusCode, 200, first.body)
      const res = await unchanged(t, a.accountId, () =>
        t.call({
          method: 'POST',
          url: `/v1/accounts/${a.accountId}/contacts/billing`,
          payload: { userId: a.users.billing },
        }),
      )
      assertProblem(res, 409, 'duplicate-contact')
    })

    test('duplicate-contact: a sheet that lists a user twice among the billing contacts', async () => {
      const a = await makeAccount(t)
      const res = await unchanged(t, a.accountId, async () => {
        const { etag } = await getSheet(t, a.accountId)
        return t.call({
          method: 'PUT',
          url: `/v1/accounts/${a.accountId}/contacts`,
          headers: { 'if-match': etag },
          payload: { billing: [{ userId: a.users.billing }, { userId: a.users.admin }, { userId: a.users.billing }] },
        })
      })
      assertProblem(res, 409, 'duplicate-contact')
    })

    // --- 422 rules of the sheet ------------------------------------------------------------------

    test('user-not-active: a deactivated user cannot become the primary contact', async () => {
      const a = await makeAccount(t)
      const off = await t.call({
        method: 'PATCH',
        url: `/v1/accounts/${a.accountId}/users/${a.users.member}`,
        payload: { status: 'deactivated' },
      })
      assert.equal(off.statusCode, 200, off.body)
      assert.equal(off.json().status, 'deactivated')
      const res = await unchanged(t, a.accountId, () =>
        t.call({
          method: 'PUT',
          url: `/v1/accounts/${a.accountId}/contacts/primary`,
          payload: { userId: a.users.member },
        }),
      )
      assertProblem(res, 422, 'user-not-active')
      const billing = await unchanged(t, a.accountId, () =>
        t.call({
          method: 'POST',
          url: `/v1/accounts/${a.accountId}/contacts/billing`,
          payload: { userId: a.users.member },
        }),
      )
      assertProblem(billing, 422, 'user-not-active')
    })

    test("user-not-in-account: another account's user, and an unknown user", async () => {
      const a = await makeAccount(t)
      const b = await makeAccount(t)
      for (const userId of [b.users.admin, `ghost-${Date.now()}`]) {
        const res = await unchanged(t, a.accountId, () =>
          t.call({ method: 'PUT', url: `/v1/accounts/${a.accountId}/contacts/primary`, payload: { userId } }),
        )
        assertProblem(res, 422, 'user-not-in-account')
      }
      const sheet = await unchanged(t, a.accountId, async () => {
        const { etag } = await getSheet(t, a.accountId)
        return t.call({
          method: 'PUT',
          url: `/v1/accounts/${a.accountId}/contacts`,
          headers: { 'if-match': etag },
          payload: { primary: { userId: a.users.admin }, billing: [{ userId: b.users.billing }] },
        })
      })
      assertProblem(sheet, 422, 'user-not-in-account')
    })

    test('external-email-not-allowed: an email address for the primary contact', async () => {
      const a = await makeAccount(t)
      const res = await unchanged(t, a.accountId, () =>
        t.call({
          method: 'PUT',
          url: `/v1/accounts/${a.accountId}/contacts/primary`,
          payload: { email: 'outsider@other.com' },
        }),
      )
      assertProblem(res, 422, 'external-email-not-allowed')
      const sheet = await unchanged(t, a.accountId, async () => {
        const { etag } = await getSheet(t, a.accountId)
        return t.call({
          method: 'PUT',
          url: `/v1/accounts/${a.accountId}/contacts`,
          headers: { 'if-match': etag },
          payload: { primary: { userId: a.users.admin }, onboarding: { email: 'outsider@other.com' } },
        })
      })
      assertProblem(sheet, 422, 'external-email-not-allowed')
    })

    test('email-domain-not-allowed: a security address outside allowedEmailDomains; one inside is pending', async () => {
      const a = await makeAccount(t, { allowedEmailDomains: ['example.fi'] })
      const res = await unchanged(t, a.accountId, () =>
        t.call({
          method: 'PUT',
          url: `/v1/accounts/${a.accountId}/contacts/security`,
          payload: { email: 'x@other.com' },
        }),
      )
      assertProblem(res, 422, 'email-domain-not-allowed')

      const ok = await t.call({
        method: 'PUT',
        url: `/v1/accounts/${a.accountId}/contacts/security`,
        payload: { email: 'x@example.fi' },
      })
      assert.equal(ok.statusCode, 200, ok.body)
      assert.deepEqual(ok.json().security, { type: 'email', email: 'x@example.fi', verification: 'pending' })
    })

    // --- 428, 413, 415 ---------------------------------------------------------------------------

    test('precondition-required: replacing the sheet without If-Match', async () => {
      const a = await makeAccount(t)
      const res = await unchanged(t, a.accountId, () =>
        t.call({
          method: 'PUT',
          url: `/v1/accounts/${a.accountId}/contacts`,
          payload: { primary: { userId: a.users.admin } },
        }),
      )
      assertProblem(res, 428, 'precondition-required')
      const empty = await unchanged(t, a.accountId, () =>
        t.call({
          method: 'PUT',
          url: `/v1/accounts/${a.accountId}/contacts`,
          headers: { 'if-match': '' },
          payload: { primary: { userId: a.users.admin } },
        }),
      )
      assertProblem(empty, 428, 'precondition-required')
    })

    test('payload-too-large: a JSON body over 1 MiB', async () => {
      const countBefore = await accountCount(t)
      const res = await t.call({ method: 'POST', url: '/v1/accounts', payload: { name: 'x'.repeat(1024 * 1024 + 1) } })
      assertProblem(res, 413, 'payload-too-large')
      assert.equal(await accountCount(t), countBefore)

      const a = await makeAccount(t)
      const sheet = await unchanged(t, a.accountId, async () => {
        const { etag } = await getSheet(t, a.accountId)
        return t.call({
          method: 'PUT',
          url: `/v1/accounts/${a.accountId}/contacts`,
          headers: { 'if-match': etag, 'content-type': 'application/json' },
          payload: JSON.stringify({ primary: { userId: a.users.admin } }) + ' '.repeat(1024 * 1024),
        })
      })
      assertProblem(sheet, 413, 'payload-too-large')
    })

    // Fastify parses text/plain by default and build-app.ts never removes that parser, so the string
    // reaches validation and answers 400 "/body must be object" instead of 415.
    test('unsupported-media-type: a text/plain body', async () => {
      const countBefore = await accountCount(t)
      const res = await t.call({
        method: 'POST',
        url: '/v1/accounts',
        headers: { 'content-type': 'text/plain' },
        payload: JSON.stringify({ name: 'Plain Oy' }),
      })
      assertProblem(res, 415, 'unsupported-media-type')
      assert.equal(await accountCount(t), countBefore)
    })

    test('unsupported-media-type: an XML or form body', async () => {
      const a = await makeAccount(t)
      for (const type of ['application/xml', 'application/x-www-form-urlencoded']) {
        const res = await unchanged(t, a.accountId, () =>
          t.call({
            method: 'PUT',
            url: `/v1/accounts/${a.accountId}/contacts/primary`,
            headers: { 'content-type': type },
            payload: `userId=${a.users.admin}`,
          }),
        )
        assertProblem(res, 415, 'unsupported-media-type')
      }
    })

    test("a caller's X-Request-Id is kept and quoted in the problem", async () => {
      const res = await t.call({
        method: 'GET',
        url: `/v1/accounts/missing-${Date.now()}`,
        headers: { 'x-request-id': 'host-req-42' },
      })
      assert.equal(assertProblem(res, 404, 'not-found').requestId, 'host-req-42')
      const odd = await t.call({
        method: 'GET',
        url: `/v1/accounts/missing-${Date.now()}`,
        headers: { 'x-request-id': 'bad id\twith tab' },
      })
      assert.notEqual(assertProblem(odd, 404, 'not-found').requestId, 'bad id\twith tab')
    })
  })

  describe(`[${kind}] problems: rate limit`, () => {
    test('rate-limited: the fourth request a minute with the same token, with Retry-After', async (t) => {
      const app = await buildTestApp(t, kind, { config: { rateLimitPerMinute: 3 } })
      for (let i = 1; i <= 3; i++) {
        const res = await app.call({ method: 'GET', url: '/v1/accounts' })
        assert.equal(res.statusCode, 200, `request ${i}: ${res.body}`)
      }
      const res = await app.call({ method: 'GET', url: '/v1/accounts' })
      assertProblem(res, 429, 'rate-limited')
      const retryAfter = res.headers['retry-after']
      assert.ok(retryAfter !== undefined, 'no retry-after header')
      assert.match(String(retryAfter), /^\d+$/)
      assert.ok(Number(retryAfter) > 0 && Number(retryAfter) <= 60)
    })
  })
}
