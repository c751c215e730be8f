import { INT32_MAX } from '../lib/schemas.ts'
import { problemDescription } from './route-helpers.ts'

/** The parts of an OpenAPI 3.1 document this file reads and fills in. */
interface Response {
  description: string
  headers?: Record<string, unknown>
  content?: Record<string, unknown>
}
interface Operation {
  tags?: string[]
  security?: unknown[]
  responses?: Record<string, Response>
}
interface Document {
  servers?: Record<string, unknown>[]
  tags?: { name: string; description?: string }[]
  components?: { headers?: Record<string, unknown> } & Record<string, unknown>
  paths?: Record<string, Record<string, Operation>>
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'])

/** What each tag groups, in the order a reader meets them. */
const TAGS: Record<string, string> = {
  accounts: 'Customer accounts',
  users: "An account's users, as the host product mirrors them",
  contacts: "An account's contact sheet: who holds which slot",
  sessions: 'Sign-in links to the settings page',
  audit: "An account's audit trail",
  routing: 'Categories and who each would reach',
  notifications: 'Mail sent to the right contacts, and its deliveries',
  broadcasts: 'One notification to many accounts',
  webhooks: 'Endpoints that receive events',
  bounces: 'Bounces and complaints from email services, and the addresses they suppress',
  operations: 'Liveness, readiness and metrics',
}

const count = (description: string) => ({
  description,
  schema: { type: 'integer', format: 'int32', minimum: 0, maximum: INT32_MAX },
})

/**
 * The budget headers src/app/rate-limit.ts sends on the answer to every request it charged to a
 * budget, and Retry-After on its 429s. None of them is sent while RATE_LIMIT_PER_MINUTE is 0, and
 * the 429 of the failed-authentication budget carries Retry-After only.
 */
const RATE_LIMIT_HEADERS = {
  'X-RateLimit-Limit': count(
    'Requests a minute the caller (its credential, or else its address) may make; sent while rate limiting is on',
  ),
  'X-RateLimit-Remaining': count('Requests left in the current minute'),
  'X-RateLimit-Reset': count('Seconds until the minute ends and the budget is full again'),
}
const RETRY_AFTER = { 'Retry-After': { ...count('Seconds to wait before trying again'), required: true } }

const ref = (name: string) => ({ $ref: `#/components/headers/${name}` })
const BUDGET_REFS = Object.fromEntries(Object.keys(RATE_LIMIT_HEADERS).map((n) => [n, ref(n)]))

const problemResponse = (status: number): Response => ({
  description: problemDescription(status),
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
})

/** An operation that declares `security: []` takes no credential, so it cannot answer 401. */
const isPublic = (op: Operation) => Array.isArray(op.security) && op.security.length === 0

/** The problems an operation can answer whatever its route: 401, 429, 500, and 503 for a lost database. */
const sharedProblems = (op: Operation) => [...(isPublic(op) ? [] : [401]), 429, 500, 503]

/**
 * What every operation can answer besides what its route declares, filled in once here (it is
 * the `transformObject` of @fastify/swagger in build-app.ts) instead of in each of the routes:
 * 401 where a credential is required, 429, 500 and 503 (a lost database, with Retry-After)
 * everywhere (all RFC 9457 problems), and the
 * rate-limit headers on the 2xx and 4xx answers. Also what only the document as a whole can say:
 * the servers' audience and the tags' descriptions. Returns the same document, completed.
 */
export function completeContract<T extends object>(input: T): T {
  const doc = input as Document
  doc.components ??= {}
  doc.components.headers = { ...doc.components.headers, ...RATE_LIMIT_HEADERS, ...RETRY_AFTER }
  const used = new Set<string>()
  for (const item of Object.values(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.has(method)) continue
      for (const tag of op.tags ?? []) used.add(tag)
      const responses = (op.responses ??= {})
      for (const status of sharedProblems(op)) responses[status] ??= problemResponse(status)
      for (const [status, response] of Object.entries(responses)) {
        if (!/^[24]/.test(status)) continue
        response.headers = {
          ...BUDGET_REFS,
          ...(status === '429' ? { 'Retry-After': ref('Retry-After') } : {}),
          ...response.headers,
        }
      }
    }
  }
  // one public server, the deployment's PUBLIC_URL (the management port is not in this document)
  for (const server of doc.servers ?? []) server['x-internal'] ??= false
  const known = new Set((doc.tags ?? []).map((t) => t.name))
  const tags = [...Object.keys(TAGS), ...used].filter(
    (t, i, all) => used.has(t) && !known.has(t) && all.indexOf(t) === i,
  )
  doc.tags = [...(doc.tags ?? []), ...tags.map((name) => (TAGS[name] ? { name, description: TAGS[name] } : { name }))]
  return input
}
