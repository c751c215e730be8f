import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { describe, test, type TestContext } from 'node:test'

import { sql } from 'kysely'
import pino from 'pino'

import { startManagementServer } from '../../src/app/management-server.ts'
import { createMetricsRegistry } from '../../src/app/metrics.plugin.ts'
import type { DeliveryResult, EmailTransport, WebhookTransport } from '../../src/delivery/transports/transport.ts'
import { createWorker, stallLimitMs, type Worker } from '../../src/delivery/worker.ts'
import { cli, tempDir } from '../cli/cli-harness.ts'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { makeAccount } from '../helpers/factories.ts'
import { freePort } from '../helpers/service-process.ts'
import { testWorker } from '../helpers/test-worker.ts'
import { startSmtpSink } from '../peers/smtp-sink.ts'

// The delivery worker's liveness: /healthz on the management port (a worker's only port) and on
// the API's port of a serve that runs the worker, and the healthcheck command's exit codes.

const silent = pino({ level: 'silent' })

/** The management server over `worker`, on a free port; closed when the test ends. */
async function management(t: TestContext, app: TestApp, worker: Worker) {
  const liveness = () => worker.liveness()
  const server = await startManagementServer({
    config: { host: '127.0.0.1', managementPort: 0, metricsToken: undefined },
    db: app.services.db,
    registry: createMetricsRegistry({ db: app.services.db, log: silent, worker: liveness }),
    worker: liveness,
    log: silent,
  })
  t.after(() => server.close())
  const port = (server.server.address() as AddressInfo).port
  return { port, url: `http://127.0.0.1:${port}` }
}

/** A notification to an account's fallback recipients: deliveries for the worker to claim. */
async function queueMail(app: TestApp) {
  const { accountId } = await makeAccount(app)
  const res = await app.call({
    method: 'POST',
    url: `/v1/accounts/${accountId}/notifications`,
    payload: { category: 'invoice', subject: 'S', text: 'T' },
  })
  assert.equal(res.statusCode, 202, res.body)
  const n = await sql<{ n: number }>`select count(*)::int as n from deliveries`.execute(app.handle.db)
  assert.ok(n.rows[0]!.n > 0)
}

async function until(what: string, ok: () => boolean, timeoutMs = 15_000) {
  const end = Date.now() + timeoutMs
  while (!ok()) {
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

for (const kind of DATABASES) {
  describe(`[${kind}] worker health`, () => {
    test('a working worker: /healthz, /readyz and /metrics on the management port; healthcheck exits 0', async (t) => {
      const app = await buildTestApp(t, kind)
      const sink = await startSmtpSink()
      t.after(() => sink.close())
      const { worker } = testWorker(t, app, { smtpUrl: sink.url })
      worker.start()
      t.after(() => worker.stop())
      await queueMail(app)
      const m = await management(t, app, worker)
      await until('the mail was sent', () => sink.messages.length > 0)

      assert.equal((await fetch(`${m.url}/healthz`)).status, 200)
      assert.equal((await fetch(`${m.url}/readyz`)).status, 200)
      const metrics = await fetch(`${m.url}/metrics`)
      assert.equal(metrics.status, 200, 'open on the management port without METRICS_TOKEN')
      const text = await metrics.text()
      assert.match(text, /^account_contacts_worker_beat_age_seconds \d/m)
      assert.match(text, /^account_contacts_outbox_deliveries\{status="queued",channel="email"\} \d+$/m)
      assert.match(text, /^account_contacts_outbox_oldest_due_seconds \d/m)
      assert.match(text, /^process_resident_memory_bytes \d/m)

      const dir = tempDir(t)
      const byUrl = await cli(['healthcheck', '--url', m.url], { DATA_DIR: dir })
      assert.equal(byUrl.code, 0, byUrl.stderr)
      assert.equal(byUrl.stdout, `${m.url}/healthz: 200 ok\n`)
      // without --url: the management port of the configuration (what a worker's container has)
      const byConfig = await cli(['healthcheck'], { DATA_DIR: dir, HOST: '0.0.0.0', MANAGEMENT_PORT: String(m.port) })
      assert.equal(byConfig.code, 0, byConfig.stderr)
      assert.equal(byConfig.stdout, `http://127.0.0.1:${m.port}/healthz: 200 ok\n`)

      await worker.stop()
      assert.deepEqual(worker.liveness(), {
        alive: false,
        beatAgeMs: undefined,
        limitMs: stallLimitMs({ leaseSeconds: 30, pollMs: 20 }),
      })
      assert.equal((await fetch(`${m.url}/healthz`)).status, 503, 'a stopped worker is not alive')
    })

    test('a worker stuck on a transport that never answers: 503 on both ports past the stall limit; healthcheck exits 1', async (t) => {
      // every send waits until the test lets it go
      const waiting: ((r: DeliveryResult) => void)[] = []
      const never = () => new Promise<DeliveryResult>((resolve) => waiting.push(resolve))
      const email: EmailTransport = { send: never, close: async () => {} }
      const webhook: WebhookTransport = { send: never }
      let worker: Worker | undefined
      const app = await buildTestApp(t, kind, { probes: { worker: () => worker?.liveness() } })
      const options = {
        batchSize: 20,
        leaseSeconds: 1,
        pollMs: 50,
        backoffBaseSeconds: 1,
        messageIdHost: 'contacts.test',
        publicUrl: 'https://contacts.test',
        mailFrom: 'c@saas.test',
      }
      worker = createWorker({
        db: app.services.db,
        email,
        webhook,
        secrets: app.services.secrets,
        bounces: app.services.bounces,
        log: silent,
        options,
      })
      await queueMail(app)
      worker.start()
      t.after(async () => {
        for (const resolve of waiting.splice(0)) resolve({ ok: true, retryable: false, detail: 'let go' })
        await worker!.stop()
      })
      assert.equal(worker.liveness().alive, true, 'alive when it starts')
      const m = await management(t, app, worker)
      assert.equal((await fetch(`${m.url}/healthz`)).status, 200)

      await until('a send is waiting', () => waiting.length > 0)
      const limit = stallLimitMs(options)
      assert.equal(limit, 1050)
      await until('the worker counts as stalled', () => !worker!.liveness().alive, limit + 5_000)

      const res = await fetch(`${m.url}/healthz`)
      assert.equal(res.status, 503)
      const problem = (await res.json()) as { type: string; detail: string }
      assert.equal(problem.type, '/problems/unavailable')
      assert.match(
        problem.detail,
        /^The delivery worker has not moved for \d+ s \(it counts as stalled after 1\.05 s\)\.$/,
      )
      // serve's own /healthz, on the API's port, answers for its in-process worker the same way
      assert.equal((await app.call({ method: 'GET', url: '/healthz', token: null })).statusCode, 503)
      assert.equal((await fetch(`${m.url}/readyz`)).status, 200, 'the database is fine: ready, but not alive')

      const dir = tempDir(t)
      const stalled = await cli(['healthcheck', '--url', m.url], { DATA_DIR: dir })
      assert.equal(stalled.code, 1)
      assert.match(stalled.stderr, /\/healthz: 503 The delivery worker has not moved for/)
      const nobody = await cli(['healthcheck', '--url', `http://127.0.0.1:${await freePort()}`], { DATA_DIR: dir })
      assert.equal(nobody.code, 1)
      assert.match(nobody.stderr, /: no answer \(ECONNREFUSED\)/)
    })
  })
}
