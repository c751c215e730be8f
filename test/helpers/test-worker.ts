import type { TestContext } from 'node:test'

import { sql } from 'kysely'

import type { DatabaseKind } from '../../src/db/connect.ts'
import { createSmtpTransport } from '../../src/delivery/transports/smtp.transport.ts'
import { createWebhookTransport } from '../../src/delivery/transports/webhook.transport.ts'
import { createWorker, type WorkerOptions } from '../../src/delivery/worker.ts'
import type { Clock } from '../../src/lib/clock.ts'
import { startSmtpSink } from '../peers/smtp-sink.ts'
import { buildTestApp, type TestApp } from './build-test-app.ts'

const quiet = { info() {}, warn() {}, error() {} }

/**
 * A real delivery worker over the test app's database, sending by SMTP to `smtpUrl` (a sink from
 * test/peers/smtp-sink.ts) and webhooks to loopback, with a fast retry schedule. `drain()` works
 * until nothing is due or waiting to be retried.
 */
export function testWorker(
  t: Pick<TestContext, 'after'>,
  app: TestApp,
  opts: { smtpUrl: string; options?: Partial<WorkerOptions>; sendDeadlineMs?: number },
) {
  const email = createSmtpTransport({ url: opts.smtpUrl, pool: false, sendDeadlineMs: opts.sendDeadlineMs })
  const worker = createWorker({
    db: app.services.db,
    email,
    webhook: createWebhookTransport({ allowPrivate: true, timeoutMs: 2000 }),
    secrets: app.services.secrets,
    bounces: app.services.bounces,
    log: quiet,
    options: {
      batchSize: 20,
      leaseSeconds: 30,
      pollMs: 20,
      backoffBaseSeconds: 0.05,
      messageIdHost: 'contacts.test',
      publicUrl: 'https://contacts.test',
      mailFrom: 'Contacts <contacts@saas.test>',
      ...opts.options,
    },
    chores: [() => app.services.broadcasts.processBatch()],
  })
  t.after(() => email.close())

  /** Runs batches (and chores) until no delivery is queued, sending or retrying, or `timeoutMs` passes. */
  async function drain(timeoutMs = 15_000): Promise<void> {
    const end = Date.now() + timeoutMs
    while (Date.now() < end) {
      await worker.runChores()
      const n = await worker.runOnce()
      if (n > 0) continue
      const open = await sql<{ n: number }>`
        select count(*)::int as n from deliveries where status in ('queued', 'sending', 'retrying')`.execute(
        app.services.db,
      )
      const running = await sql<{
        n: number
      }>`select count(*)::int as n from broadcasts where status = 'running'`.execute(app.services.db)
      if (open.rows[0]!.n === 0 && running.rows[0]!.n === 0) return
      await new Promise((r) => setTimeout(r, 25))
    }
    throw new Error('drain: deliveries still open after the timeout')
  }
  return { worker, drain }
}

/** An app on a fresh database, an SMTP sink for its mail, and a worker sending to it. */
export async function appWithMail(t: Pick<TestContext, 'after'>, kind: DatabaseKind, opts: { clock?: Clock } = {}) {
  const app = await buildTestApp(t, kind, opts.clock ? { clock: opts.clock } : {})
  const sink = await startSmtpSink()
  t.after(() => sink.close())
  const { drain } = testWorker(t, app, { smtpUrl: sink.url })
  return { app, sink, drain }
}
