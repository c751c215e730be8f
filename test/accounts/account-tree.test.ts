import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { describe, test } from 'node:test'

import { type IsolationLevel, sql } from 'kysely'

import { ACCOUNT_TREE_MAX_LEVELS } from '../../src/accounts/account-tree.ts'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { makeAccount, sessionFor } from '../helpers/factories.ts'

/*
 * Parent and child accounts (issue 16), the tree itself: who may set a parent, and the database's
 * refusal of cycles, of trees over five levels and of deleting a parent, alone and under
 * concurrent moves at every isolation level.
 */

let seq = 0
const fresh = (p: string) => `${p}-${Date.now().toString(36)}-${(seq++).toString(36)}`

const create = (app: TestApp, parentAccountId?: string | null) =>
  app.call({
    method: 'POST',
    url: '/v1/accounts',
    payload: { id: fresh('tree'), name: 'Tree Oy', ...(parentAccountId !== undefined ? { parentAccountId } : {}) },
  })

const move = (app: TestApp, id: string, parentAccountId: string | null, token?: string) =>
  app.call({ method: 'PATCH', url: `/v1/accounts/${id}`, payload: { parentAccountId }, ...(token ? { token } : {}) })

/** A chain of `n` accounts, each the parent of the next; answers their ids, root first. */
async function chain(app: TestApp, n: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    const r = await create(app, ids.at(-1))
    assert.equal(r.statusCode, 201, r.body)
    ids.push(r.json().id)
  }
  return ids
}

/** Every account's chain up to its root: throws on a cycle; answers the deepest level. */
async function deepest(app: TestApp): Promise<number> {
  const rows = await sql<{ id: string; parent: string | null }>`
    select id, parent_account_id as parent from accounts`.execute(app.handle.db)
  const parent = new Map(rows.rows.map((r) => [r.id, r.parent]))
  let max = 0
  for (const id of parent.keys()) {
    const seen = new Set<string>()
    for (let at: string | null | undefined = id; at; at = parent.get(at)) {
      assert.ok(!seen.has(at), `a cycle through ${at}`)
      seen.add(at)
    }
    max = Math.max(max, seen.size)
  }
  return max
}

for (const kind of DATABASES) {
  describe(`[${kind}] account tree`, () => {
    test(`up to ${ACCOUNT_TREE_MAX_LEVELS} levels; a sixth, or a subtree that would make one, is refused`, async (t) => {
      const app = await buildTestApp(t, kind)
      const ids = await chain(app, ACCOUNT_TREE_MAX_LEVELS)
      const leaf = (await app.call({ method: 'GET', url: `/v1/accounts/${ids.at(-1)}` })).json()
      assert.equal(leaf.parentAccountId, ids.at(-2))
      const sixth = await create(app, ids.at(-1))
      assert.equal(sixth.statusCode, 422)
      assert.equal(sixth.json().code, 'account-tree-too-deep')
      // a two-level subtree fits under level 3, not under level 4
      const [top] = await chain(app, 2)
      assert.equal((await move(app, top!, ids[3]!)).json().code, 'account-tree-too-deep')
      assert.equal((await move(app, top!, ids[2]!)).statusCode, 200)
      assert.equal(await deepest(app), ACCOUNT_TREE_MAX_LEVELS)
    })

    test('a cycle, itself as parent, or an unknown parent is refused and changes nothing', async (t) => {
      const app = await buildTestApp(t, kind)
      const [root, mid, leaf] = await chain(app, 3)
      const before = (await app.call({ method: 'GET', url: `/v1/accounts/${root}` })).json()
      for (const parent of [leaf!, mid!, root!]) {
        const r = await move(app, root!, parent)
        assert.equal(r.statusCode, 409, r.body)
        assert.equal(r.json().code, 'account-tree-cycle')
      }
      const unknown = await move(app, root!, 'no-such-account')
      assert.equal(unknown.statusCode, 422)
      assert.equal(unknown.json().code, 'parent-not-found')
      assert.equal((await create(app, 'no-such-account')).json().code, 'parent-not-found')
      assert.deepEqual((await app.call({ method: 'GET', url: `/v1/accounts/${root}` })).json(), before)
    })

    test('only a platform key sets a parent; a super admin still changes the rest; each change is audited', async (t) => {
      const app = await buildTestApp(t, kind)
      const [parent] = await chain(app, 1)
      const { accountId, users } = await makeAccount(app)
      const admin = await sessionFor(app, accountId, users.admin!)
      const refused = await move(app, accountId, parent!, admin)
      assert.equal(refused.statusCode, 403)
      const renamed = await app.call({
        method: 'PATCH',
        url: `/v1/accounts/${accountId}`,
        payload: { name: 'Renamed Oy' },
        token: admin,
      })
      assert.equal(renamed.statusCode, 200)
      assert.equal((await move(app, accountId, parent!)).json().parentAccountId, parent)
      const audit = (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/audit-events?limit=1` })).json()
      assert.deepEqual(
        [audit.data[0].action, audit.data[0].before.parentAccountId, audit.data[0].after.parentAccountId],
        ['account.updated', null, parent],
      )
      // back to no parent
      assert.equal((await move(app, accountId, null)).json().parentAccountId, null)
    })

    test('a parent is not deleted while it has children', async (t) => {
      const app = await buildTestApp(t, kind)
      const [root, child] = await chain(app, 2)
      const refused = await app.call({ method: 'DELETE', url: `/v1/accounts/${root}` })
      assert.equal(refused.statusCode, 409)
      assert.equal(refused.json().code, 'account-has-children')
      assert.equal((await app.call({ method: 'GET', url: `/v1/accounts/${child}` })).statusCode, 200)
      assert.equal((await move(app, child!, null)).statusCode, 200)
      assert.equal((await app.call({ method: 'DELETE', url: `/v1/accounts/${root}` })).statusCode, 204)
    })
  })
}

const skip = process.env.DATABASE_URL ? false : 'needs DATABASE_URL (PostgreSQL): PGlite has no concurrent writers'
const LEVELS: IsolationLevel[] = ['read committed', 'repeatable read', 'serializable']

for (const isolation of LEVELS)
  describe(`[postgres] concurrent re-parenting at ${isolation}`, { skip }, () => {
    test('30 accounts each made the child of the next, all at once: no cycle, no tree over five levels', async (t) => {
      const app = await buildTestApp(t, 'postgres', { isolation })
      const ids: string[] = []
      for (let i = 0; i < 30; i++) ids.push((await create(app)).json().id)
      await app.app.listen({ port: 0, host: '127.0.0.1' })
      const { port } = app.app.server.address() as AddressInfo
      // each move alone is fine; together they would make a ring of 30
      const results = await Promise.all(
        ids.map((id, i) =>
          fetch(`http://127.0.0.1:${port}/v1/accounts/${id}`, {
            method: 'PATCH',
            headers: { authorization: `Bearer ${app.apiKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({ parentAccountId: ids[(i + 1) % ids.length] }),
          }).then(async (r) => ({ status: r.status, code: ((await r.json()) as { code?: string }).code })),
        ),
      )
      const answers = results.map((r) => (r.status === 200 ? 'ok' : r.code))
      assert.ok(
        answers.every((a) => ['ok', 'account-tree-cycle', 'account-tree-too-deep'].includes(a!)),
        JSON.stringify(answers),
      )
      assert.ok(answers.includes('ok'))
      assert.ok(
        answers.some((a) => a !== 'ok'),
        'some moves were refused',
      )
      assert.ok((await deepest(app)) <= ACCOUNT_TREE_MAX_LEVELS)
      // what was answered is what is stored
      const stored = await sql<{ id: string; parent: string | null }>`
        select id, parent_account_id as parent from accounts where id = any(${ids})`.execute(app.handle.db)
      const parentOf = new Map(stored.rows.map((r) => [r.id, r.parent]))
      ids.forEach((id, i) => assert.equal(parentOf.get(id), answers[i] === 'ok' ? ids[(i + 1) % ids.length] : null, id))
    })
  })
