import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { makeAccount, putSheet, sessionFor } from '../helpers/factories.ts'
import { suiteScope } from '../helpers/suite-scope.ts'

// GET …/routing: every category's preview in one answer (the settings page's "who receives what"
// made ten requests), the same as asking for each category alone.
for (const kind of DATABASES) {
  describe(`[${kind}] the routing preview of every category`, () => {
    const suite = suiteScope()
    let app: TestApp
    before(async () => {
      app = await buildTestApp(suite.scope, kind)
    })
    after(() => suite.close())

    test('answers, in the policy’s order, what each category’s own preview answers: own, inherited and fallback recipients', async () => {
      const parent = await makeAccount(app, { extraUsers: 1 })
      const child = await makeAccount(app, { extraUsers: 1, parentAccountId: parent.accountId })
      await putSheet(app, parent.accountId, {
        primary: { userId: parent.users.admin },
        billing: [{ userId: parent.users.billing }],
        technicalAdmin: { userId: parent.users.u1 },
      })
      await putSheet(app, child.accountId, {
        primary: { userId: child.users.admin },
        billing: [{ userId: child.users.u1 }],
      })
      const add = await app.call({
        method: 'PUT',
        url: `/v1/accounts/${child.accountId}/contacts/rules/billing`,
        payload: { rule: 'add' },
      })
      assert.equal(add.statusCode, 200, add.body)
      const empty = await makeAccount(app)

      const categories = (await app.call({ method: 'GET', url: '/v1/categories', token: null })).json().data as {
        category: string
      }[]
      // any user of the account may read it, as each preview
      for (const a of [child, parent, empty]) {
        const token = await sessionFor(app, a.accountId, a.users.member!)
        const res = await app.call({ method: 'GET', url: `/v1/accounts/${a.accountId}/routing`, token })
        assert.equal(res.statusCode, 200, res.body)
        const one = []
        for (const { category } of categories) {
          const r = await app.call({
            method: 'GET',
            url: `/v1/accounts/${a.accountId}/recipients?category=${category}`,
          })
          one.push(r.json())
        }
        assert.deepEqual(res.json().data, one)
      }
      const data = (await app.call({ method: 'GET', url: `/v1/accounts/${child.accountId}/routing` })).json().data
      const invoice = data.find((p: { category: string }) => p.category === 'invoice')
      assert.deepEqual(invoice.recipients.map((r: { email: string }) => r.email).sort(), [
        // invoices go to the primary contact too
        `${child.users.admin}@example.com`,
        `${parent.users.billing}@example.com`,
        `${child.users.u1}@example.com`,
      ])
    })

    test('an unknown account is 404', async () => {
      const res = await app.call({ method: 'GET', url: '/v1/accounts/no-such-account/routing' })
      assert.equal(res.statusCode, 404, res.body)
      assert.equal(res.json().code, 'not-found')
    })
  })
}
