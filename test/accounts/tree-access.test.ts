import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { sql } from 'kysely'

import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { makeAccount, sessionFor } from '../helpers/factories.ts'

/*
 * Parent and child accounts (issue 16), who may do what: a parent's super and billing admins
 * manage the contacts of its descendants; a child's admins see what they inherit and nothing else
 * of the parent. The authorization matrix has a row for every route; this walks through the uses.
 */

const as = (app: TestApp, token: string) => (method: 'GET' | 'PUT' | 'POST' | 'PATCH', url: string, payload?: object) =>
  app.call({ method, url, token, ...(payload ? { payload } : {}) })

for (const kind of DATABASES) {
  describe(`[${kind}] who manages a tree of accounts`, () => {
    test("a parent's billing admin sets a grandchild's contacts; the change is audited as theirs", async (t) => {
      const app = await buildTestApp(t, kind)
      const root = await makeAccount(app)
      const mid = await makeAccount(app, { parentAccountId: root.accountId })
      const leaf = await makeAccount(app, { parentAccountId: mid.accountId })
      const admin = as(app, await sessionFor(app, root.accountId, root.users.billing!))
      const set = await admin('PUT', `/v1/accounts/${leaf.accountId}/contacts/primary`, { userId: leaf.users.member })
      assert.equal(set.statusCode, 200, set.body)
      assert.equal(set.json().primary.userId, leaf.users.member)
      assert.equal(
        (await admin('PUT', `/v1/accounts/${leaf.accountId}/contacts/rules/billing`, { rule: 'add' })).statusCode,
        200,
      )
      // the users to choose from, the preview and the health: what the page needs to manage it
      for (const url of ['users', 'recipients?category=invoice', 'health', 'audit-events'])
        assert.equal((await admin('GET', `/v1/accounts/${leaf.accountId}/${url}`)).statusCode, 200, url)
      const audit = (await admin('GET', `/v1/accounts/${leaf.accountId}/audit-events?limit=5`)).json().data
      assert.ok(audit.some((e: { actor: { id: string } }) => e.actor.id === root.users.billing))
      // but not the account itself: only its own super admins (or the platform) change that
      const rename = await as(app, await sessionFor(app, root.accountId, root.users.admin!))(
        'PATCH',
        `/v1/accounts/${leaf.accountId}`,
        { name: 'Renamed' },
      )
      assert.equal(rename.statusCode, 403)
      // a member of the parent manages nothing below it
      const member = as(app, await sessionFor(app, root.accountId, root.users.member!))
      assert.equal((await member('GET', `/v1/accounts/${leaf.accountId}/contacts`)).statusCode, 404)
    })

    test("a parent's admin who shares a user id with a child's user is not taken for them", async (t) => {
      const app = await buildTestApp(t, kind)
      const parent = await makeAccount(app)
      const child = await makeAccount(app, { parentAccountId: parent.accountId })
      // user ids are the host product's and unique per account only: the child has a user of the same id
      const twin = parent.users.billing!
      const made = await app.call({
        method: 'PUT',
        url: `/v1/accounts/${child.accountId}/users/${twin}`,
        payload: { email: 'twin@child.example', name: 'Twin in the child', role: 'member' },
      })
      assert.equal(made.statusCode, 201, made.body)
      await app.call({
        method: 'PUT',
        url: `/v1/accounts/${child.accountId}/contacts/primary`,
        payload: { userId: twin },
      })
      const admin = as(app, await sessionFor(app, parent.accountId, twin))
      const set = await admin('PUT', `/v1/accounts/${child.accountId}/contacts/primary`, { userId: child.users.member })
      assert.equal(set.statusCode, 200, set.body)
      // the child's twin lost the slot and did not make the change: they are told, and not named as its author
      const told = await sql<{ text: string }>`
        select n.text from notifications n where n.account_id = ${child.accountId} and n.category = 'contact_changed'
          and n.recipients @> ${JSON.stringify([{ email: 'twin@child.example' }])}::jsonb`.execute(app.handle.db)
      assert.equal(told.rows.length, 1)
      assert.ok(!told.rows[0]!.text.includes('made by Twin in the child'), told.rows[0]!.text)
    })

    test("a child's admin sees the holders it inherits, and nothing of the parent itself", async (t) => {
      const app = await buildTestApp(t, kind)
      const parent = await makeAccount(app)
      await app.call({
        method: 'POST',
        url: `/v1/accounts/${parent.accountId}/contacts/billing`,
        payload: { userId: parent.users.billing },
      })
      const child = await makeAccount(app, { parentAccountId: parent.accountId })
      const admin = as(app, await sessionFor(app, child.accountId, child.users.admin!))
      const sheet = (await admin('GET', `/v1/accounts/${child.accountId}/contacts`)).json()
      assert.deepEqual(sheet.inherited.billing, [
        {
          email: `${parent.users.billing}@example.com`,
          name: 'User billing',
          userId: parent.users.billing,
          fromAccountId: parent.accountId,
          fromAccountName: `Account ${parent.accountId}`,
        },
      ])
      for (const url of ['', '/contacts', '/users', '/health', '/descendants'])
        assert.equal((await admin('GET', `/v1/accounts/${parent.accountId}${url}`)).statusCode, 404, url)
      const move = await admin('PATCH', `/v1/accounts/${child.accountId}`, { parentAccountId: null })
      assert.equal(move.statusCode, 403, 'only the platform sets a parent')
    })

    test("the parent's admins list the accounts below with their health, which counts what they inherit", async (t) => {
      const app = await buildTestApp(t, kind)
      const root = await makeAccount(app)
      await app.call({
        method: 'PUT',
        url: `/v1/accounts/${root.accountId}/contacts/primary`,
        payload: { userId: root.users.admin },
      })
      const a = await makeAccount(app, { parentAccountId: root.accountId })
      const b = await makeAccount(app, { parentAccountId: a.accountId })
      await makeAccount(app) // not in the tree
      const admin = as(app, await sessionFor(app, root.accountId, root.users.admin!))
      const res = await admin('GET', `/v1/accounts/${root.accountId}/descendants`)
      assert.equal(res.statusCode, 200, res.body)
      assert.deepEqual(
        res
          .json()
          .data.map(
            (d: {
              accountId: string
              parentAccountId: string
              depth: number
              health: { problems: { code: string }[] }
            }) => [d.accountId, d.parentAccountId, d.depth, d.health.problems.map((p) => p.code)],
          ),
        [
          [a.accountId, root.accountId, 1, ['no-billing-contact']],
          [b.accountId, a.accountId, 2, ['no-billing-contact']],
        ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
      )
      // the same health as the account's own, which its own admins read
      const own = (await app.call({ method: 'GET', url: `/v1/accounts/${b.accountId}/health` })).json()
      assert.deepEqual(res.json().data.find((d: { accountId: string }) => d.accountId === b.accountId).health, own)
    })

    test('a change at a parent: one audit event and one contacts.updated event there, naming the descendants it reaches; the previous holder is told once', async (t) => {
      const app = await buildTestApp(t, kind)
      const root = await makeAccount(app)
      await app.call({
        method: 'POST',
        url: `/v1/accounts/${root.accountId}/contacts/billing`,
        payload: { userId: root.users.billing },
      })
      const inheriting = await makeAccount(app, { parentAccountId: root.accountId })
      const grandchild = await makeAccount(app, { parentAccountId: inheriting.accountId })
      const own = await makeAccount(app, { parentAccountId: root.accountId })
      await app.call({
        method: 'POST',
        url: `/v1/accounts/${own.accountId}/contacts/billing`,
        payload: { userId: own.users.billing },
      })
      const added = await makeAccount(app, { parentAccountId: own.accountId })
      await app.call({
        method: 'PUT',
        url: `/v1/accounts/${added.accountId}/contacts/rules/billing`,
        payload: { rule: 'add' },
      })
      const audits = async (id: string) =>
        (await app.call({ method: 'GET', url: `/v1/accounts/${id}/audit-events?limit=50` })).json().data.length
      const before = await Promise.all([root, inheriting, grandchild, own, added].map((a) => audits(a.accountId)))

      const swap = await app.call({
        method: 'PUT',
        url: `/v1/accounts/${root.accountId}/contacts`,
        headers: { 'if-match': '*' },
        payload: { billing: [{ userId: root.users.member }] },
      })
      assert.equal(swap.statusCode, 200, swap.body)
      const after = await Promise.all([root, inheriting, grandchild, own, added].map((a) => audits(a.accountId)))
      assert.deepEqual(after, [before[0]! + 1, ...before.slice(1)], 'one audit event, at the parent only')
      const events = await sql<{ account_id: string; payload: { data: { affectedDescendants?: unknown } } }>`
        select account_id, payload from events where type = 'contacts.updated' order by created_at desc limit 1`.execute(
        app.handle.db,
      )
      assert.equal(events.rows[0]!.account_id, root.accountId)
      // `own` holds billing itself, and `added` adds to `own`'s: the walk stops at `own`
      assert.deepEqual(events.rows[0]!.payload.data.affectedDescendants, {
        count: 2,
        accountIds: [inheriting.accountId, grandchild.accountId].sort(),
        complete: true,
      })
      const listed = await app.call({
        method: 'GET',
        url: `/v1/accounts/${root.accountId}/descendants?inheriting=billing`,
      })
      assert.deepEqual(
        listed.json().data.map((d: { accountId: string }) => d.accountId),
        [inheriting.accountId, grandchild.accountId].sort(),
      )
      const told = await sql<{ n: number }>`
        select count(*)::int as n from notifications where category = 'contact_changed'
          and recipients @> ${JSON.stringify([{ email: `${root.users.billing}@example.com` }])}::jsonb`.execute(
        app.handle.db,
      )
      assert.equal(told.rows[0]!.n, 1, 'the previous holder is told once, not once per descendant')
    })

    test("deactivating a parent's user vacates its slots, and the children that inherited it fall back", async (t) => {
      const app = await buildTestApp(t, kind)
      const parent = await makeAccount(app)
      await app.call({
        method: 'PUT',
        url: `/v1/accounts/${parent.accountId}/contacts/primary`,
        payload: { userId: parent.users.admin },
      })
      await app.call({
        method: 'POST',
        url: `/v1/accounts/${parent.accountId}/contacts/billing`,
        payload: { userId: parent.users.billing },
      })
      const child = await makeAccount(app, { parentAccountId: parent.accountId })
      const receipt = async () =>
        (await app.call({ method: 'GET', url: `/v1/accounts/${child.accountId}/recipients?category=receipt` })).json()
      assert.deepEqual(
        (await receipt()).recipients.map((r: { email: string }) => r.email),
        [`${parent.users.billing}@example.com`],
      )
      const off = await app.call({
        method: 'PATCH',
        url: `/v1/accounts/${parent.accountId}/users/${parent.users.billing}`,
        payload: { status: 'deactivated' },
      })
      assert.equal(off.statusCode, 200, off.body)
      const after = await receipt()
      assert.equal(after.fallback, 'primary')
      assert.deepEqual(
        after.recipients.map((r: { email: string }) => r.email),
        [`${parent.users.admin}@example.com`],
      )
    })
  })
}
