import client from 'prom-client'

import type { Db } from '../db/database.ts'
import { findOutboxBacklog, type OutboxBacklog, UNSETTLED_STATUSES } from './deliveries.repository.ts'
import type { WorkerLiveness } from './worker.ts'

/** How long a scrape may spend counting the backlog (Prometheus's own scrape timeout is 10 s). */
const BACKLOG_QUERY_TIMEOUT_MS = 2_000
const CHANNELS = ['email', 'webhook'] as const

/**
 * The outbox's gauges, read from the database when scraped: every process on the database reports
 * the same (shared) backlog, so alert on one series per job, not a sum. When the count fails (a
 * backlog too large to count within BACKLOG_QUERY_TIMEOUT_MS, the database away), the counts are
 * left out of that scrape (an `absent()` alert catches it), the age is NaN (unknown, never a
 * reassuring 0), and the log says why.
 */
export function registerOutboxMetrics(
  registry: client.Registry,
  db: Db,
  log: { warn(o: object, m: string): void },
): void {
  // Both gauges are collected at once (prom-client runs the collects together): one query serves both.
  let reading: Promise<OutboxBacklog | undefined> | undefined
  const read = () =>
    (reading ??= findOutboxBacklog(db, { timeoutMs: BACKLOG_QUERY_TIMEOUT_MS })
      .catch((err: unknown) => {
        log.warn({ err }, 'reading the outbox backlog for /metrics failed')
        return undefined
      })
      .finally(() => {
        reading = undefined
      }))

  new client.Gauge({
    name: 'account_contacts_outbox_deliveries',
    help: 'Deliveries not yet settled (queued, sending, retrying), by status and channel',
    labelNames: ['status', 'channel'],
    registers: [registry],
    async collect() {
      this.reset()
      const backlog = await read()
      if (!backlog) return
      for (const status of UNSETTLED_STATUSES) {
        for (const channel of CHANNELS) {
          const n = backlog.counts.find((c) => c.status === status && c.channel === channel)?.n ?? 0
          this.set({ status, channel }, n)
        }
      }
    },
  })
  new client.Gauge({
    name: 'account_contacts_outbox_oldest_due_seconds',
    help: 'How long the oldest due delivery has waited to be sent (0 when none is due): how far the workers are behind',
    registers: [registry],
    async collect() {
      const backlog = await read()
      this.set(backlog ? backlog.oldestDueSeconds : Number.NaN)
    },
  })
}

/** The delivery worker's liveness, in a process that runs one. */
export function registerWorkerMetrics(registry: client.Registry, liveness: () => WorkerLiveness): void {
  new client.Gauge({
    name: 'account_contacts_worker_beat_age_seconds',
    help: "Seconds since the delivery worker's slowest lane last moved; /healthz fails past the stall limit",
    registers: [registry],
    collect() {
      this.reset()
      const { beatAgeMs } = liveness()
      if (beatAgeMs !== undefined) this.set(beatAgeMs / 1000)
    },
  })
}
