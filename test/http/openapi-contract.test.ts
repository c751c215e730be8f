import assert from 'node:assert/strict'
import { test } from 'node:test'

import { buildTestApp } from '../helpers/build-test-app.ts'

// What the document promises besides each route's own answers (src/app/openapi-contract.ts), held
// against what the server sends: the problems every operation can answer, and the rate-limit
// headers on the answers that carry them. `npm run lint:openapi` checks the same document's shape.

type Operation = {
  security?: unknown[]
  responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, unknown> }>
}

const BUDGET = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']

function operations(doc: { paths: Record<string, Record<string, Operation>> }) {
  return Object.entries(doc.paths).flatMap(([p, item]) =>
    Object.entries(item).map(([m, op]) => ({ key: `${m.toUpperCase()} ${p}`, op })),
  )
}

/** The header names a documented answer lists, lower-cased (HTTP header names are). */
const documented = (response: { headers?: Record<string, unknown> } | undefined) =>
  Object.keys(response?.headers ?? {}).map((h) => h.toLowerCase())

test('[pglite] every operation documents 429, 500 and 503 as problems, and 401 unless it takes no credential', async (t) => {
  const app = await buildTestApp(t, 'pglite')
  const doc = (await app.call({ method: 'GET', url: '/openapi.json', token: null })).json()
  const ops = operations(doc)
  assert.ok(ops.length > 30, `only ${ops.length} operations`)
  for (const { key, op } of ops) {
    const open = Array.isArray(op.security) && op.security.length === 0
    for (const status of open ? ['429', '500', '503'] : ['401', '429', '500', '503']) {
      assert.ok(
        op.responses[status]?.content?.['application/problem+json'],
        `${key} does not document ${status} as a problem`,
      )
    }
    for (const [status, response] of Object.entries(op.responses)) {
      if (/^[24]/.test(status))
        assert.deepEqual(
          documented(response).filter((h) => BUDGET.includes(h)),
          BUDGET,
          `${key} ${status} lacks the rate-limit headers`,
        )
    }
    assert.ok(documented(op.responses['429']).includes('retry-after'), `${key} 429 lacks Retry-After`)
  }
})

test('[pglite] the rate-limit headers the document lists are the ones sent, on a 200, a 404 and a 429', async (t) => {
  const app = await buildTestApp(t, 'pglite', { config: { rateLimitPerMinute: 2 } })
  const doc = (await app.call({ method: 'GET', url: '/openapi.json', token: null })).json()
  const account = doc.paths['/v1/accounts/{accountId}'].get as Operation
  const answers = [
    { res: await app.call({ method: 'GET', url: '/v1/categories' }), op: doc.paths['/v1/categories'].get as Operation },
  ]
  // 404s until the budget is spent (the credential's; the two requests above went to the address's)
  for (let i = 0; i < 5 && answers.at(-1)!.res.statusCode !== 429; i++) {
    answers.push({ res: await app.call({ method: 'GET', url: '/v1/accounts/no-such-account' }), op: account })
  }
  assert.deepEqual([...new Set(answers.map(({ res }) => res.statusCode))], [200, 404, 429])
  for (const { res, op } of answers) {
    const listed = documented(op.responses[String(res.statusCode)])
    for (const h of BUDGET) {
      assert.ok(listed.includes(h), `${res.statusCode}: ${h} is not documented`)
      assert.match(String(res.headers[h]), /^\d+$/, `${res.statusCode}: ${h} was not sent`)
    }
  }
  const limited = answers.at(-1)!.res
  assert.match(String(limited.headers['retry-after']), /^\d+$/)
  assert.ok(documented(account.responses['429']).includes('retry-after'))
  assert.equal(doc.components.headers['Retry-After'].required, true)
})

test("[pglite] a problem stays within the document's bounds when the request's own text is long", async (t) => {
  const app = await buildTestApp(t, 'pglite')
  const doc = (await app.call({ method: 'GET', url: '/openapi.json', token: null })).json()
  const bounds = doc.components.schemas.Problem.properties
  const field = 'k'.repeat(5000)
  const answers = [
    // an unknown field's name goes into errors[].path and the detail
    await app.call({ method: 'POST', url: '/v1/accounts', payload: { name: 'Acme', [field]: 1 } }),
    // an unknown route's path goes into the detail
    await app.call({ method: 'GET', url: `/v1/${'p'.repeat(8000)}` }),
  ]
  assert.deepEqual(
    answers.map((r) => r.statusCode),
    [400, 404],
  )
  for (const res of answers) {
    const problem = res.json()
    assert.ok(problem.detail.length <= bounds.detail.maxLength, `a detail of ${problem.detail.length} characters`)
    assert.ok((problem.errors ?? []).length <= bounds.errors.maxItems)
    for (const e of problem.errors ?? [])
      assert.ok(e.path.length <= bounds.errors.items.properties.path.maxLength, `a path of ${e.path.length} characters`)
  }
  const [unknownField] = answers[0]!.json().errors
  assert.ok(
    unknownField.path.startsWith(`/body/kkk`) && unknownField.path.endsWith('…'),
    unknownField.path.slice(0, 40),
  )
})
