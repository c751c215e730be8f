import assert from 'node:assert/strict'
import { test } from 'node:test'

import fc from 'fast-check'

import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { makeAccount } from '../helpers/factories.ts'
import { IdRef } from './fuzz-arbitraries.ts'
import { createJudge, type SentRequest } from './fuzz-checks.ts'
import { countWrites, fingerprint, FuzzState } from './fuzz-fixture.ts'
import { mutatedArb, type Operation, operationsOf, type RequestSpec, resolverOf, validArb } from './fuzz-operations.ts'

/*
 * Spec-driven fuzzing: requests generated from the served /openapi.json with fast-check,
 * valid ones and mutated ones, sent through `app.inject` and judged the way Schemathesis judges an
 * API:
 *   1. no 5xx, ever;
 *   2. the status is one the operation's `responses` lists;
 *   3. the body validates (ajv) against the documented schema of that status;
 *   4. a request that does not conform to the document is refused with a 4xx and changes nothing
 *      (no refused request, and no GET, writes a row: a trigger counts every row written);
 *   5. every error is `application/problem+json` with the RFC 9457 fields and the request id.
 * Valid requests aim at a seeded account with users, a full sheet, a notification, a webhook
 * endpoint and a broadcast; ids come mostly from it, sometimes from other accounts, sometimes at
 * random. Every operation of the document is fuzzed. DELETE /v1/accounts/{accountId} would wipe
 * the fixture: when it does, the fixture is seeded anew (and it is re-seeded every
 * RESEED_EVERY requests, since deactivations and removals wear the sheet down).
 *
 * FUZZ_SEED=<n> replays a run. 5,000 requests in all, shared by the databases (2,500 each on PGlite
 * and PostgreSQL, 5,000 on PGlite alone); RELIABILITY_LONG=1 sends 50,000 (FUZZ_REQUESTS=<n> any number).
 */

const LONG = process.env.RELIABILITY_LONG === '1'
/** Requests in all, shared by the databases the suite runs on (PGlite, and PostgreSQL with DATABASE_URL). */
const TOTAL = Number(process.env.FUZZ_REQUESTS ?? (LONG ? 50_000 : 5_000))
const REQUESTS = Math.ceil(TOTAL / DATABASES.length)
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31)
const RESEED_EVERY = 250
/** Tokens that are no credential at all, for the `garbage` auth of mutated requests. */
const GARBAGE_AUTH = [
  'Bearer acpk_0000000000000000000000000000000000000000',
  'Bearer acs_nobody.secret',
  'Basic dXNlcjpwYXNz',
  'Bearer ',
  'acpk_no_scheme',
]
/**
 * A GET with a documented side effect: the verification link marks the address verified, and uses
 * its token up even when it answers the "not valid" page (the address was replaced meanwhile).
 * A request to it that the document does not allow must still change nothing.
 */
const GET_WITH_EFFECT = new Set(['verifyEmail'])

interface Stats {
  valid: number
  invalid: number
  statuses: Map<number, number>
  perOp: Map<string, { sent: number; ok: number; invalid: number }>
  mutations: Map<string, number>
  reseeds: number
}

/** Replaces every `IdRef` in `value` with the id it stands for now. */
async function resolveDeep(value: unknown, state: FuzzState, accountId: string | undefined): Promise<unknown> {
  if (value instanceof IdRef) return state.resolve(value, accountId)
  if (Array.isArray(value)) return Promise.all(value.map((v) => resolveDeep(v, state, accountId)))
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = await resolveDeep(v, state, accountId)
    return out
  }
  return value
}

async function resolveRequest(spec: RequestSpec, state: FuzzState): Promise<SentRequest> {
  const strings = async (o: Record<string, unknown>, accountId: string | undefined) => {
    const out: Record<string, string> = {}
    for (const [k, v] of Object.entries(o)) out[k] = String(await resolveDeep(v, state, accountId))
    return out
  }
  const path = await strings({ accountId: spec.path.accountId }, undefined).then((a) =>
    spec.path.accountId === undefined ? {} : a,
  )
  const accountId = path.accountId
  Object.assign(
    path,
    await strings(Object.fromEntries(Object.entries(spec.path).filter(([k]) => k !== 'accountId')), accountId),
  )
  return {
    path,
    query: await strings(spec.query, accountId),
    headers: await strings(spec.headers, accountId),
    ...(spec.body !== undefined ? { body: await resolveDeep(spec.body, state, accountId) } : {}),
    ...(spec.raw ? { raw: spec.raw } : {}),
  }
}

function injectOptions(op: Operation, spec: RequestSpec, req: SentRequest, t: TestApp, state: FuzzState, n: number) {
  let url = op.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(req.path[name] ?? ''))
  const query = new URLSearchParams(req.query).toString()
  if (query) url += `?${query}`
  const headers: Record<string, string> = { ...req.headers }
  const sessions = state.current.sessions
  const bearer = {
    key: `Bearer ${t.apiKey}`,
    admin: `Bearer ${sessions.admin}`,
    billing: `Bearer ${sessions.billing}`,
    member: `Bearer ${sessions.member}`,
    none: undefined,
    garbage: GARBAGE_AUTH[n % GARBAGE_AUTH.length],
  }[spec.auth]
  if (bearer !== undefined) headers.authorization = bearer
  let payload: string | undefined
  if (req.raw) {
    payload = req.raw.payload
    if (req.raw.contentType) headers['content-type'] = req.raw.contentType
  } else if (req.body !== undefined) {
    payload = JSON.stringify(req.body)
    headers['content-type'] = 'application/json'
  }
  return { method: op.method as 'GET', url, headers, ...(payload !== undefined ? { payload } : {}) }
}

const clip = (s: string, n = 2000) => (s.length > n ? `${s.slice(0, n)}… (${s.length} characters)` : s)

for (const kind of DATABASES) {
  test(`[${kind}] fuzz: ${REQUESTS} requests generated from /openapi.json are answered as the document says`, async (t) => {
    const started = performance.now()
    const app = await buildTestApp(t, kind)
    const doc = (await app.call({ method: 'GET', url: '/openapi.json', token: null })).json()
    const ops = operationsOf(doc)
    const resolve = resolverOf(doc)
    const { conforms, judge } = createJudge(doc, ops)
    await countWrites(app)
    const state = new FuzzState(app)
    const empty = await fingerprint(app)
    await state.seed()
    assert.notEqual(await fingerprint(app), empty, 'the write counter sees the fixture being written')
    t.diagnostic(`fuzz [${kind}]: seed ${SEED} (replay: FUZZ_SEED=${SEED}), ${ops.length} operations`)

    // Each operation as often as any other (valid and mutated about half each), except DELETE
    // account: it is fuzzed half as often, since each time it hits the fixture that is re-seeded.
    const arbs = ops.flatMap((op, i) => {
      const weight = op.operationId === 'deleteAccount' ? 3 : 6
      const mutated = mutatedArb(ops, i, resolve)
      return [{ arbitrary: validArb(ops, i, resolve), weight }, ...(mutated ? [{ arbitrary: mutated, weight }] : [])]
    })
    const requestArb = fc.oneof(...arbs)

    const stats: Stats = {
      valid: 0,
      invalid: 0,
      statuses: new Map(),
      perOp: new Map(),
      mutations: new Map(),
      reseeds: 0,
    }
    let before = await fingerprint(app)
    let n = 0
    let failure: string | undefined

    const property = fc.asyncProperty(requestArb, async (spec) => {
      if (n > 0 && n % RESEED_EVERY === 0) {
        await state.seed()
        stats.reseeds++
        before = await fingerprint(app)
      }
      n++
      const op = ops[spec.op]!
      const req = await resolveRequest(spec, state)
      const valid = !(op.secured && (spec.auth === 'none' || spec.auth === 'garbage')) && conforms(spec.op, req)
      const options = injectOptions(op, spec, req, app, state, n)
      const res = await app.app.inject(options)
      const after = await fingerprint(app)

      const wrong = judge(spec.op, res)
      if (!valid && (res.statusCode < 400 || res.statusCode >= 500))
        wrong.push(`a request the document does not allow was answered ${res.statusCode}, not a 4xx`)
      if (res.statusCode >= 400 && after !== before && !(valid && GET_WITH_EFFECT.has(op.operationId)))
        wrong.push('a refused request changed stored data')
      if (op.method === 'GET' && !GET_WITH_EFFECT.has(op.operationId) && after !== before)
        wrong.push('a GET changed stored data')
      before = after

      const counts = stats.perOp.get(op.operationId) ?? { sent: 0, ok: 0, invalid: 0 }
      counts.sent++
      if (res.statusCode < 300) counts.ok++
      if (!valid) counts.invalid++
      stats.perOp.set(op.operationId, counts)
      stats[valid ? 'valid' : 'invalid']++
      stats.statuses.set(res.statusCode, (stats.statuses.get(res.statusCode) ?? 0) + 1)
      if (spec.mutation)
        stats.mutations.set(
          spec.mutation.replace(/^(\w+)\.[\w-]+:/, '$1:'),
          (stats.mutations.get(spec.mutation.replace(/^(\w+)\.[\w-]+:/, '$1:')) ?? 0) + 1,
        )

      if (wrong.length > 0) {
        failure = [
          `fuzz [${kind}] request #${n} (seed ${SEED}; replay: FUZZ_SEED=${SEED}) of ${op.operationId}, ${valid ? 'valid' : `invalid${spec.mutation ? ` (${spec.mutation})` : ''}`}:`,
          ...wrong.map((w) => `  - ${w}`),
          `request: ${options.method} ${options.url}`,
          `  headers: ${JSON.stringify(options.headers)}`,
          `  body: ${clip(options.payload ?? '(none)')}`,
          `response: ${res.statusCode}`,
          `  headers: ${JSON.stringify(res.headers)}`,
          `  body: ${clip(res.body)}`,
        ].join('\n')
        console.log(failure)
        return false
      }
      state.harvest(
        op.operationId,
        req.path.accountId,
        res.statusCode,
        res.statusCode < 300 && res.body ? safeJson(res.body) : null,
      )
      if (
        op.operationId === 'deleteAccount' &&
        res.statusCode === 204 &&
        req.path.accountId === state.current.accountId
      ) {
        await state.seed()
        stats.reseeds++
        before = await fingerprint(app)
      }
      return true
    })
    const details = await fc.check(property, { seed: SEED, numRuns: REQUESTS, endOnFailure: true })
    if (details.failed) assert.fail(failure ?? `fuzz [${kind}] (seed ${SEED}): ${String(details.errorInstance)}`)

    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    const statuses = [...stats.statuses]
      .sort(([a], [b]) => a - b)
      .map(([s, c]) => `${s}: ${c}`)
      .join(', ')
    t.diagnostic(
      `fuzz [${kind}]: ${n} requests (${stats.valid} valid, ${stats.invalid} invalid), seed ${SEED}, 0 failures, ${seconds} s, fixture seeded ${stats.reseeds + 1} times`,
    )
    t.diagnostic(`fuzz [${kind}]: statuses ${statuses}`)
    t.diagnostic(
      `fuzz [${kind}]: mutations ${[...stats.mutations]
        .sort()
        .map(([m, c]) => `${m} ${c}`)
        .join(', ')}`,
    )
    const neverOk = ops.filter((op) => !stats.perOp.get(op.operationId)?.ok).map((op) => op.operationId)
    t.diagnostic(`fuzz [${kind}]: operations never answered 2xx: ${neverOk.join(', ') || 'none'}`)

    assert.equal(n, REQUESTS)
    // with a few thousand requests every operation gets valid and invalid ones (a short FUZZ_REQUESTS may not)
    if (REQUESTS >= 1000)
      for (const [i, op] of ops.entries()) {
        const counts = stats.perOp.get(op.operationId)
        assert.ok(counts && counts.sent > 0, `${op.operationId} was never fuzzed`)
        if (mutatedArb(ops, i, resolve)) assert.ok(counts.invalid > 0, `${op.operationId} never got an invalid request`)
      }
  })
}

function safeJson(body: string): unknown {
  try {
    return JSON.parse(body)
  } catch {
    return null
  }
}

// What the fuzzer found, kept fixed by name: answers that were not problems.
test('[pglite] fuzz findings: router refusals, a verification link without a token and a NUL in a message or a webhook URL are 400 problems', async (t) => {
  const app = await buildTestApp(t, 'pglite')
  const cases = [
    // a path parameter over the router's 100 characters was Fastify's plain JSON 414
    { url: `/v1/accounts/${'x'.repeat(101)}/contacts`, token: app.apiKey },
    // a malformed %-escape was Fastify's plain JSON 400
    { url: '/v1/accounts/%E0%A4%A/contacts', token: app.apiKey },
    // validation of the link's query was serialised by the HTML page's schema: "[object Object]"
    { url: '/v1/verify-email', token: null },
    { url: `/v1/verify-email?token=${'x'.repeat(201)}`, token: null },
  ]
  for (const { url, token } of cases) {
    const res = await app.call({ method: 'GET', url, token })
    assert.equal(res.statusCode, 400, url)
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/, url)
    const problem = res.json()
    assert.equal(problem.type, '/problems/validation-failed', url)
    assert.equal(problem.status, 400)
    assert.equal(problem.requestId, res.headers['x-request-id'])
  }
  // a NUL in a message body was a 500: PostgreSQL text cannot hold it
  const { accountId } = await makeAccount(app)
  for (const [url, payload] of [
    [`/v1/accounts/${accountId}/notifications`, { category: 'invoice', subject: 'Hi', text: 'a\u0000b' }],
    [
      `/v1/accounts/${accountId}/notifications`,
      { category: 'invoice', subject: 'Hi', text: 'a', html: '<p>\u0000</p>' },
    ],
    ['/v1/broadcasts', { category: 'invoice', subject: 'Hi', text: '\u0000', accountIds: [accountId] }],
    // URL parsing drops a trailing control character, so the NUL reached the row
    ['/v1/webhook-endpoints', { url: 'http://127.0.0.1:9/hook\u0000' }],
  ] as const) {
    const res = await app.call({ method: 'POST', url, payload })
    assert.equal(res.statusCode, 400, res.body)
    assert.equal(res.json().type, '/problems/validation-failed')
  }
  // the page for a link that is not valid stays a page
  const page = await app.call({ method: 'GET', url: '/v1/verify-email?token=not-a-token', token: null })
  assert.equal(page.statusCode, 400)
  assert.match(String(page.headers['content-type']), /^text\/html/)
})
