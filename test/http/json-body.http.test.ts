import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import type { LightMyRequestResponse } from 'fastify'

import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { getSheet, type MadeAccount, makeAccount } from '../helpers/factories.ts'
import { suiteScope } from '../helpers/suite-scope.ts'

// The one JSON body parser (review M7, API part, and L5): UTF-8 only, never a U+FFFD in place of
// what was sent; an empty body is no body; a parse error or a refused name says what it is.

const JSON_TYPE = { 'content-type': 'application/json' }

function assertProblem(res: LightMyRequestResponse, status: number, code: string) {
  assert.equal(res.statusCode, status, res.body)
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/)
  const body = res.json() as { code: string; detail: string; errors?: { path: string; message: string }[] }
  assert.equal(body.code, code)
  return body
}

for (const kind of DATABASES) {
  describe(`[${kind}] JSON bodies`, () => {
    const { scope, close } = suiteScope()
    let app: TestApp
    before(async () => {
      app = await buildTestApp(scope, kind)
    })
    after(close)

    const createAccount = (id: string, payload: string | Buffer, headers: Record<string, string> = JSON_TYPE) =>
      app.call({ method: 'POST', url: '/v1/accounts', headers, payload })
    const assertNoAccount = async (id: string) =>
      assert.equal((await app.call({ method: 'GET', url: `/v1/accounts/${id}` })).statusCode, 404, `${id} was created`)

    test('bytes that are not UTF-8 are refused (400), not stored as U+FFFD', async () => {
      const body = Buffer.concat([
        Buffer.from('{"id":"enc-bytes","name":"bad '),
        Buffer.from([0xff, 0xfe, 0xc3]),
        Buffer.from('"}'),
      ])
      const problem = assertProblem(await createAccount('enc-bytes', body), 400, 'validation-failed')
      assert.match(problem.detail, /UTF-8/)
      await assertNoAccount('enc-bytes')
    })

    test('a lone surrogate escape (\\ud800) is refused with its path, not stored as U+FFFD', async () => {
      const problem = assertProblem(
        await createAccount('enc-surrogate', '{"id":"enc-surrogate","name":"bad \\ud800 x"}'),
        400,
        'validation-failed',
      )
      assert.deepEqual(
        problem.errors?.map((e) => e.path),
        ['/body/name'],
      )
      await assertNoAccount('enc-surrogate')
      // a pair written as two escapes is one character, and is kept
      const pair = await createAccount('enc-pair', '{"id":"enc-pair","name":"ok \\ud83d\\ude00"}')
      assert.equal(pair.statusCode, 201, pair.body)
      assert.equal(pair.json().name, 'ok 😀')
    })

    test('a body declared in another charset is 415; utf-8 in any spelling is taken', async () => {
      const latin1 = Buffer.from('{"id":"enc-latin1","name":"\xe4iti"}', 'latin1')
      const problem = assertProblem(
        await createAccount('enc-latin1', latin1, { 'content-type': 'application/json; charset=iso-8859-1' }),
        415,
        'unsupported-media-type',
      )
      assert.match(problem.detail, /iso-8859-1/)
      await assertNoAccount('enc-latin1')
      for (const [id, type] of [
        ['enc-utf8a', 'application/json; charset=UTF-8'],
        ['enc-utf8b', 'application/json;charset="utf8"'],
      ] as const) {
        const res = await createAccount(id, JSON.stringify({ id, name: 'Äiti' }), { 'content-type': type })
        assert.equal(res.statusCode, 201, `${type}: ${res.body}`)
        assert.equal(res.json().name, 'Äiti')
      }
    })

    test('__proto__ and constructor.prototype are refused by name, not as "not valid JSON"', async () => {
      const proto = assertProblem(
        await createAccount('enc-proto', '{"id":"enc-proto","name":"a","__proto__":{"admin":true}}'),
        400,
        'validation-failed',
      )
      assert.deepEqual(
        proto.errors?.map((e) => e.path),
        ['/body/__proto__'],
      )
      assert.doesNotMatch(proto.detail, /not valid JSON/)
      const escaped = assertProblem(
        await createAccount('enc-proto', '{"id":"enc-proto","name":"a","\\u005f_proto__":1}'),
        400,
        'validation-failed',
      )
      assert.deepEqual(
        escaped.errors?.map((e) => e.path),
        ['/body/__proto__'],
      )
      const ctor = assertProblem(
        await createAccount('enc-proto', '{"id":"enc-proto","name":"a","constructor":{"prototype":{"x":1}}}'),
        400,
        'validation-failed',
      )
      assert.deepEqual(
        ctor.errors?.map((e) => e.path),
        ['/body/constructor/prototype'],
      )
      await assertNoAccount('enc-proto')
    })

    test('a body nested 100,000 deep with an escape in it is a 400, not a stack overflow', async () => {
      const depth = 100_000
      const nested = `{"id":"enc-deep","name":${'['.repeat(depth)}"\\u0041"${']'.repeat(depth)}}`
      assertProblem(await createAccount('enc-deep', nested), 400, 'validation-failed')
      await assertNoAccount('enc-deep')
      // and a refused name deep inside is still found
      const deepProto = `{"id":"enc-deep2","name":"x","extra":${'['.repeat(depth)}{"__proto__":1}${']'.repeat(depth)}}`
      const problem = assertProblem(await createAccount('enc-deep2', deepProto), 400, 'validation-failed')
      assert.match(problem.errors?.[0]?.path ?? '', /^\/body\/extra\/0\/0\//) // (cut to the problem's bounds)
      assert.match(problem.errors?.[0]?.message ?? '', /a name the service does not accept/)
    })

    test('broken JSON is a problem that does not quote the body back', async () => {
      const secret = 'acs_secretthatmustnotechoback0123456789'
      const res = await app.call({
        method: 'POST',
        url: '/ui/session',
        headers: JSON_TYPE,
        payload: `{"token":"${secret}"`,
      })
      const problem = assertProblem(res, 400, 'validation-failed')
      assert.match(problem.detail, /not valid JSON/)
      assert.ok(!res.body.includes(secret), res.body)
    })

    test('an empty body with content-type application/json is no body: DELETE works, a POST that needs one says so', async () => {
      const a: MadeAccount = await makeAccount(app)
      const billing = await app.call({
        method: 'POST',
        url: `/v1/accounts/${a.accountId}/contacts/billing`,
        payload: { userId: a.users.billing },
      })
      assert.equal(billing.statusCode, 200, billing.body)
      const removed = await app.call({
        method: 'DELETE',
        url: `/v1/accounts/${a.accountId}/contacts/billing/${a.users.billing}`,
        headers: { ...JSON_TYPE, 'content-length': '0' },
      })
      assert.equal(removed.statusCode, 200, removed.body)
      assert.deepEqual((await getSheet(app, a.accountId)).sheet.billing, [])
      const read = await app.call({
        method: 'GET',
        url: `/v1/accounts/${a.accountId}`,
        headers: { ...JSON_TYPE, 'content-length': '0' },
      })
      assert.equal(read.statusCode, 200, read.body)

      const empty = assertProblem(await createAccount('enc-empty', ''), 400, 'validation-failed')
      assert.deepEqual(empty.errors, [{ path: '/body', message: 'is required' }])
      await assertNoAccount('enc-empty')
    })
  })
}
