import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { sql } from 'kysely'

import { requestHash } from '../../src/idempotency/idempotency.ts'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { makeAccount } from '../helpers/factories.ts'

const body = (subject = 'Maintenance on Saturday') => ({ category: 'account_update', subject, text: `${subject}.` })

function post(app: TestApp, accountId: string, payload: object, key?: string, token?: string) {
  return app.call({
    method: 'POST',
    url: `/v1/accounts/${accountId}/notifications`,
    payload,
    ...(key ? { headers: { 'idempotency-key': key } } : {}),
    ...(token ? { token } : {}),
  })
}

/** The notifications (not our own system mail) stored for the account, straight from the database. */
async function notificationIds(app: TestApp, accountId: string): Promise<string[]> {
  const res = await sql<{ id: string }>`
    select id from notifications where account_id = ${accountId} and kind = 'notification' order by id`.execute(
    app.handle.db,
  )
  return res.rows.map((r) => r.id)
}

async function deliveryCount(app: TestApp, accountId: string): Promise<number> {
  const res = await sql<{
    n: number
  }>`select count(*)::int as n from deliveries where account_id = ${accountId} and channel = 'email'`.execute(
    app.handle.db,
  )
  return res.rows[0]!.n
}

/**
 * Leaves `key` claimed as running for the platform key's request `payload`, claimed `age` ago by
 * the database clock, as a request still running (or one that died) leaves it. A first request
 * tells how the caller is recorded.
 */
async function leaveRunningKey(app: TestApp, accountId: string, key: string, payload: object, age: string) {
  assert.equal((await post(app, accountId, body('Probe'), `probe-${key}`)).statusCode, 202)
  const { actor_id } = await app.handle.db
    .selectFrom('idempotency_keys')
    .select('actor_id')
    .where('account_id', '=', accountId)
    .where('key', '=', `probe-${key}`)
    .executeTakeFirstOrThrow()
  const hash = requestHash('POST', `/v1/accounts/${accountId}/notifications`, payload)
  await sql`
    insert into idempotency_keys (account_id, actor_id, key, request_hash, status, created_at)
    values (${accountId}, ${actor_id}, ${key}, ${hash}, 'running', now() - ${age}::interval)`.execute(app.handle.db)
}

for (const kind of DATABASES) {
  describe(`[${kind}] Idempotency-Key on POST /v1/accounts/{id}/notifications`, () => {
    test('the same key and body twice answer the same notification, stored once', async (t) => {
      const app = await buildTestApp(t, kind)
      const { accountId, users } = await makeAccount(app)
      await app.call({
        method: 'PUT',
        url: `/v1/accounts/${accountId}/contacts/primary`,
        payload: { userId: users.member },
      })

      const first = await post(app, accountId, body(), 'key-1')
      assert.equal(first.statusCode, 202, first.body)
      const second = await post(app, accountId, body(), 'key-1')
      assert.equal(second.statusCode, 202, second.body)
      assert.deepEqual(second.json(), first.json())
      assert.equal(second.json().id, first.json().id)
      assert.equal(first.json().recipients.length, 1)

      assert.deepEqual(await notificationIds(app, accountId), [first.json().id])
      assert.equal(await deliveryCount(app, accountId), 1, 'one delivery: the repeat queued nothing')

      // the same body with its keys in another order is the same request
      const reordered = await post(
        app,
        accountId,
        { text: body().text, subject: body().subject, category: 'account_update' },
        'key-1',
      )
      assert.equal(reordered.statusCode, 202, reordered.body)
      assert.equal(reordered.json().id, first.json().id)
      assert.equal((await notificationIds(app, accountId)).length, 1)
    })

    test('the same key with a different body is a 422 idempotency-key-reused, and changes nothing', async (t) => {
      const app = await buildTestApp(t, kind)
      const { accountId } = await makeAccount(app)
      const first = await post(app, accountId, body('Invoice run'), 'key-2')
      assert.equal(first.statusCode, 202, first.body)

      const other = await post(app, accountId, body('Something else'), 'key-2')
      assert.equal(other.statusCode, 422, other.body)
      assert.match(other.headers['content-type'] as string, /application\/problem\+json/)
      assert.equal(other.json().type, '/problems/idempotency-key-reused')
      assert.equal(other.json().status, 422)

      const otherCategory = await post(app, accountId, { ...body('Invoice run'), category: 'invoice' }, 'key-2')
      assert.equal(otherCategory.statusCode, 422, otherCategory.body)
      assert.equal(otherCategory.json().type, '/problems/idempotency-key-reused')

      assert.deepEqual(await notificationIds(app, accountId), [first.json().id])
      // the key still answers its own request
      const again = await post(app, accountId, body('Invoice run'), 'key-2')
      assert.equal(again.statusCode, 202, again.body)
      assert.equal(again.json().id, first.json().id)
    })

    test('ten concurrent requests with one key and one body store exactly one notification', async (t) => {
      const app = await buildTestApp(t, kind)
      const { accountId, users } = await makeAccount(app)
      await app.call({
        method: 'PUT',
        url: `/v1/accounts/${accountId}/contacts/primary`,
        payload: { userId: users.member },
      })

      const answers = await Promise.all(
        Array.from({ length: 10 }, () => post(app, accountId, body('Race'), 'key-race')),
      )
      const ids = await notificationIds(app, accountId)
      assert.equal(ids.length, 1, `one notification, got ${ids.length}`)
      assert.equal(await deliveryCount(app, accountId), 1)
      const [id] = ids
      let accepted = 0
      let inUse = 0
      for (const a of answers) {
        if (a.statusCode === 202) {
          assert.equal(a.json().id, id, a.body)
          accepted++
        } else {
          assert.equal(a.statusCode, 409, a.body)
          assert.equal(a.json().type, '/problems/idempotency-key-in-use')
          inUse++
        }
      }
      assert.ok(accepted >= 1, 'the first request is answered 202')
      t.diagnostic(`${kind}: ${accepted} × 202, ${inUse} × 409 idempotency-key-in-use`)

      // once it has finished, the key answers the first result
      const later = await post(app, accountId, body('Race'), 'key-race')
      assert.equal(later.statusCode, 202, later.body)
      assert.equal(later.json().id, id)
    })

    test("another caller's key of the same name does not collide", async (t) => {
      const app = await buildTestApp(t, kind)
      const { accountId } = await makeAccount(app)
      const other = await app.services.apiKeys.create('other')

      const mine = await post(app, accountId, body(), 'shared-key')
      assert.equal(mine.statusCode, 202, mine.body)
      const theirs = await post(app, accountId, body(), 'shared-key', other.key)
      assert.equal(theirs.statusCode, 202, theirs.body)
      assert.notEqual(theirs.json().id, mine.json().id)
      // even with a different body: their key is theirs, not a reuse of mine
      const theirsOther = await post(app, accountId, body('Their own'), 'shared-key-2', other.key)
      assert.equal(theirsOther.statusCode, 202, theirsOther.body)
      const mineOther = await post(app, accountId, body('Mine'), 'shared-key-2')
      assert.equal(mineOther.statusCode, 202, mineOther.body)

      assert.equal((await notificationIds(app, accountId)).length, 4)
      // and each caller's repeat still answers its own first result
      assert.equal((await post(app, accountId, body(), 'shared-key', other.key)).json().id, theirs.json().id)
      assert.equal((await post(app, accountId, body(), 'shared-key')).json().id, mine.json().id)
      assert.equal((await notificationIds(app, accountId)).length, 4)
    })

    test('keys are per account: the same key and body in two accounts sends twice', async (t) => {
      const app = await buildTestApp(t, kind)
      const a = await makeAccount(app)
      const b = await makeAccount(app)
      const toA = await post(app, a.accountId, body(), 'per-account')
      const toB = await post(app, b.accountId, body(), 'per-account')
      assert.equal(toA.statusCode, 202, toA.body)
      assert.equal(toB.statusCode, 202, toB.body)
      assert.notEqual(toA.json().id, toB.json().id)
      assert.deepEqual(await notificationIds(app, a.accountId), [toA.json().id])
      assert.deepEqual(await notificationIds(app, b.accountId), [toB.json().id])
    })

    test('a key left running by a crashed request is taken over after five minutes', async (t) => {
      const app = await buildTestApp(t, kind)
      const { accountId } = await makeAccount(app)
      // a claim as a request that died mid-way leaves it: running, no answer, ten minutes old
      await leaveRunningKey(app, accountId, 'crashed', body('After a crash'), '10 minutes')

      const retry = await post(app, accountId, body('After a crash'), 'crashed')
      assert.equal(retry.statusCode, 202, retry.body)
      assert.equal((await notificationIds(app, accountId)).length, 2)
      const again = await post(app, accountId, body('After a crash'), 'crashed')
      assert.equal(again.json().id, retry.json().id)
    })

    test('a key still running (younger than five minutes) answers 409 idempotency-key-in-use with Retry-After', async (t) => {
      const app = await buildTestApp(t, kind)
      const { accountId } = await makeAccount(app)
      await leaveRunningKey(app, accountId, 'slow', body('Slow'), '0 seconds')
      const res = await post(app, accountId, body('Slow'), 'slow')
      assert.equal(res.statusCode, 409, res.body)
      assert.equal(res.json().type, '/problems/idempotency-key-in-use')
      assert.equal(res.headers['retry-after'], '1')
      assert.equal((await notificationIds(app, accountId)).length, 1)
    })

    test('without a key, two identical requests send two notifications', async (t) => {
      const app = await buildTestApp(t, kind)
      const { accountId } = await makeAccount(app)
      const one = await post(app, accountId, body())
      const two = await post(app, accountId, body())
      assert.equal(one.statusCode, 202, one.body)
      assert.equal(two.statusCode, 202, two.body)
      assert.notEqual(one.json().id, two.json().id)
      assert.deepEqual(await notificationIds(app, accountId), [one.json().id, two.json().id].sort())
    })
  })
}
