import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { buildTestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { makeAccount, sessionFor } from '../helpers/factories.ts'

for (const kind of DATABASES) {
  describe(`[${kind}] accounts API`, () => {
    test('create, read, update, list by cursor, delete', async (t) => {
      const app = await buildTestApp(t, kind)
      const created = await app.call({
        method: 'POST',
        url: '/v1/accounts',
        payload: { id: 'acme', name: 'Acme Oy', locale: 'fi' },
      })
      assert.equal(created.statusCode, 201)
      assert.equal(created.json().locale, 'fi')
      const generated = await app.call({ method: 'POST', url: '/v1/accounts', payload: { name: 'No id given' } })
      assert.equal(generated.statusCode, 201)
      assert.match(generated.json().id, /^acct_[a-z0-9]+$/)

      const dup = await app.call({ method: 'POST', url: '/v1/accounts', payload: { id: 'acme', name: 'Again' } })
      assert.equal(dup.statusCode, 409)

      const patched = await app.call({ method: 'PATCH', url: '/v1/accounts/acme', payload: { name: 'Acme Group Oy' } })
      assert.equal(patched.json().name, 'Acme Group Oy')

      const page1 = await app.call({ method: 'GET', url: '/v1/accounts?limit=1' })
      assert.equal(page1.json().data.length, 1)
      assert.ok(page1.json().nextCursor)
      const page2 = await app.call({ method: 'GET', url: `/v1/accounts?limit=1&cursor=${page1.json().nextCursor}` })
      assert.equal(page2.json().data.length, 1)
      assert.notEqual(page2.json().data[0].id, page1.json().data[0].id)
      assert.equal(page2.json().nextCursor, null)

      const del = await app.call({ method: 'DELETE', url: '/v1/accounts/acme' })
      assert.equal(del.statusCode, 204)
      assert.equal((await app.call({ method: 'GET', url: '/v1/accounts/acme' })).statusCode, 404)
    })

    test("a user sees their own account only; another account's id answers like a missing one", async (t) => {
      const app = await buildTestApp(t, kind)
      const a = await makeAccount(app)
      const b = await makeAccount(app)
      const token = await sessionFor(app, a.accountId, a.users.member!)
      assert.equal((await app.call({ method: 'GET', url: `/v1/accounts/${a.accountId}`, token })).statusCode, 200)
      const foreign = await app.call({ method: 'GET', url: `/v1/accounts/${b.accountId}/contacts`, token })
      const missing = await app.call({ method: 'GET', url: `/v1/accounts/nope-${Date.now()}/contacts`, token })
      assert.equal(foreign.statusCode, 404)
      assert.equal(missing.statusCode, 404)
      assert.deepEqual(Object.keys(foreign.json()).sort(), Object.keys(missing.json()).sort())
      assert.equal((await app.call({ method: 'GET', url: '/v1/accounts', token })).statusCode, 403)
    })
  })
}
