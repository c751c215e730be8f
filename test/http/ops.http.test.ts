import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { sql } from 'kysely'
import pg from 'pg'

import { createMetricsRegistry } from '../../src/app/metrics.plugin.ts'
import { connectPostgres } from '../../src/db/connect.ts'
import { pgError } from '../../src/db/pg-errors.ts'
import { findOutboxBacklog } from '../../src/delivery/deliveries.repository.ts'
import type { WorkerLiveness } from '../../src/delivery/worker.ts'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { makeAccount } from '../helpers/factories.ts'

// /metrics on the API's port (only for the bearer of METRICS_TOKEN), the outbox's gauges in it,
// and /healthz answering for the process's delivery worker.

const TOKEN = 'scraper-token-0123456789-abcdefghijkl'

/** The samples of one metric: labels as `k=v,k=v` (sorted) → value. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`).exec(line)
    if (!m) continue
    const labels = (m[1] ?? '').split(',').filter(Boolean).sort().join(',').replaceAll('"', '')
    out.set(labels, Number(m[2]))
  }
  return out
}

const scrape = async (app: TestApp) => {
  const res = await app.call({ method: 'GET', url: '/metrics', token: TOKEN })
  assert.equal(res.statusCode, 200, res.body)
  return res.body
}

for (const kind of DATABASES) {
  describe(`[${kind}] /metrics and /healthz`, () => {
    test('without METRICS_TOKEN /metrics is not served on the API port, whatever the caller sends', async (t) => {
      const app = await buildTestApp(t, kind)
      for (const token of [null, undefined, TOKEN]) {
        const res = await app.call({ method: 'GET', url: '/metrics', token })
        assert.equal(res.statusCode, 404, res.body)
        assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
        assert.equal(res.json().type, '/problems/not-found')
        assert.match(res.json().detail, /METRICS_TOKEN/)
      }
    })

    test('with METRICS_TOKEN only its bearer reads /metrics; a platform key or a wrong token is a 401', async (t) => {
      const app = await buildTestApp(t, kind, { config: { metricsToken: TOKEN } })
      for (const [what, token] of [
        ['no token', null],
        ['a platform key', undefined],
        ['a wrong token', `${TOKEN}x`],
        ['a prefix', TOKEN.slice(0, -1)],
      ] as const) {
        const res = await app.call({ method: 'GET', url: '/metrics', token })
        assert.equal(res.statusCode, 401, `${what}: ${res.body}`)
        assert.equal(res.headers['www-authenticate'], 'Bearer')
        assert.equal(res.json().type, '/problems/unauthenticated')
      }
      const res = await app.call({ method: 'GET', url: '/metrics', token: TOKEN })
      assert.equal(res.statusCode, 200)
      assert.match(String(res.headers['content-type']), /^text\/plain/)
      assert.match(res.body, /^process_cpu_user_seconds_total /m)
      assert.match(res.body, /^# TYPE http_request_duration_seconds histogram$/m)
    })

    test('the outbox gauges: unsettled deliveries by status and channel, and the age of the oldest due one', async (t) => {
      const app = await buildTestApp(t, kind, { config: { metricsToken: TOKEN } })
      const empty = await scrape(app)
      const zero = samples(empty, 'account_contacts_outbox_deliveries')
      assert.equal(zero.size, 6, 'every status × channel, zeros included')
      assert.ok([...zero.values()].every((n) => n === 0))
      assert.deepEqual([...samples(empty, 'account_contacts_outbox_oldest_due_seconds').values()], [0])

      // mail (a notification) and webhooks (a contact change, to an endpoint) in the outbox
      const hook = await app.call({
        method: 'POST',
        url: '/v1/webhook-endpoints',
        payload: { url: 'http://127.0.0.1:9/hooks' },
      })
      assert.equal(hook.statusCode, 201, hook.body)
      for (let i = 0; i < 3; i++) {
        const { accountId, users } = await makeAccount(app)
        const sent = await app.call({
          method: 'POST',
          url: `/v1/accounts/${accountId}/notifications`,
          payload: { category: 'invoice', subject: 'S', text: 'T' },
        })
        assert.equal(sent.statusCode, 202, sent.body)
        const put = await app.call({
          method: 'PUT',
          url: `/v1/accounts/${accountId}/contacts/primary`,
          payload: { userId: users.admin },
        })
        assert.equal(put.statusCode, 200, put.body)
      }
      // one of each state the gauges must tell apart: a retry not yet due, a delivery waiting 90 s, one settled
      const db = app.handle.db
      const pick = async (channel: string, skip: number) =>
        (
          await sql<{
            id: string
          }>`select id from deliveries where channel = ${channel} order by id offset ${skip} limit 1`.execute(db)
        ).rows[0]!.id
      await sql`update deliveries set status = 'retrying', next_attempt_at = now() + interval '1 hour' where id = ${await pick('email', 0)}`.execute(
        db,
      )
      await sql`update deliveries set next_attempt_at = now() - interval '90 seconds' where id = ${await pick('email', 1)}`.execute(
        db,
      )
      await sql`update deliveries set status = 'sending', next_attempt_at = now() + interval '1 minute' where id = ${await pick('webhook', 0)}`.execute(
        db,
      )
      await sql`update deliveries set status = 'delivered', delivered_at = now() where id = ${await pick('webhook', 1)}`.execute(
        db,
      )

      const rows = await sql<{ status: string; channel: string; n: number }>`
        select status, channel, count(*)::int as n from deliveries group by status, channel`.execute(db)
      const expected = new Map<string, number>()
      for (const status of ['queued', 'sending', 'retrying']) {
        for (const channel of ['email', 'webhook']) {
          expected.set(
            `channel=${channel},status=${status}`,
            rows.rows.find((r) => r.status === status && r.channel === channel)?.n ?? 0,
          )
        }
      }
      assert.ok(
        expected.get('channel=email,status=queued')! > 0 && expected.get('channel=webhook,status=queued')! > 0,
        JSON.stringify(rows.rows),
      )

      const text = await scrape(app)
      assert.deepEqual(samples(text, 'account_contacts_outbox_deliveries'), expected, 'delivered rows are not counted')
      const [oldest] = [...samples(text, 'account_contacts_outbox_oldest_due_seconds').values()]
      assert.ok(oldest! >= 90 && oldest! < 150, `oldest due: ${oldest}`)
    })

    test("/healthz fails while the process's delivery worker is stalled or not running", async (t) => {
      let liveness: WorkerLiveness = { alive: true, beatAgeMs: 20, limitMs: 61_000 }
      const app = await buildTestApp(t, kind, { probes: { worker: () => liveness } })
      assert.equal((await app.call({ method: 'GET', url: '/healthz', token: null })).statusCode, 200)

      liveness = { alive: false, beatAgeMs: 75_000, limitMs: 61_000 }
      const stalled = await app.call({ method: 'GET', url: '/healthz', token: null })
      assert.equal(stalled.statusCode, 503)
      assert.equal(stalled.json().type, '/problems/unavailable')
      assert.equal(
        stalled.json().detail,
        'The delivery worker has not moved for 75 s (it counts as stalled after 61 s).',
      )

      liveness = { alive: false, beatAgeMs: undefined, limitMs: 61_000 }
      const stopped = await app.call({ method: 'GET', url: '/healthz', token: null })
      assert.equal(stopped.statusCode, 503)
      assert.equal(stopped.json().detail, 'The delivery worker is not running.')
    })
  })
}

test('when the backlog cannot be read, the scrape still answers, without the counts, and the log says why', async () => {
  // nothing listens on port 1
  const handle = connectPostgres('postgres://postgres@127.0.0.1:1/nowhere', { connectTimeoutMs: 1000 })
  const warnings: string[] = []
  const registry = createMetricsRegistry({ db: handle.db, log: { warn: (_o, m) => warnings.push(m) } })
  try {
    const text = await registry.metrics()
    assert.match(text, /^process_cpu_user_seconds_total /m)
    assert.equal(samples(text, 'account_contacts_outbox_deliveries').size, 0)
    assert.deepEqual(
      [...samples(text, 'account_contacts_outbox_oldest_due_seconds').values()],
      [Number.NaN],
      'unknown, not 0',
    )
    assert.deepEqual(
      warnings,
      ['reading the outbox backlog for /metrics failed'],
      'one query, one warning, for both gauges',
    )
  } finally {
    await handle.close()
  }
})

test(
  '[postgres] a backlog read that cannot finish within its bound gives up instead of holding its connection',
  {
    skip: DATABASES.includes('postgres')
      ? false
      : 'needs PostgreSQL (DATABASE_URL): a second connection holds the table',
  },
  async (t) => {
    const app = await buildTestApp(t, 'postgres')
    const locker = new pg.Client({ connectionString: app.handle.url })
    await locker.connect()
    // ended here, not in t.after: the test database is dropped first there, and waits for it
    try {
      await locker.query('begin')
      await locker.query('lock table deliveries in access exclusive mode')
      const started = Date.now()
      await assert.rejects(findOutboxBacklog(app.handle.db, { timeoutMs: 300 }), (e) => pgError(e)?.code === '57014')
      assert.ok(Date.now() - started < 5000, `gave up after ${Date.now() - started} ms`)
    } finally {
      await locker.end()
    }
    assert.deepEqual(await findOutboxBacklog(app.handle.db, { timeoutMs: 300 }), { counts: [], oldestDueSeconds: 0 })
  },
)
