import { randomUUID } from 'node:crypto'

import type { BounceService } from '../bounces/bounces.service.ts'
import type { Db } from '../db/database.ts'
import { transaction } from '../db/transaction.ts'
import { type Clock, systemClock } from '../lib/clock.ts'
import type { SecretDeriver } from '../lib/derived-secrets.ts'
import { emitNotificationOutcomes } from '../notifications/notification-status.ts'
import { composeEmail, type ComposeOptions } from './compose-email.ts'
import type { ClaimedDelivery } from './deliveries.repository.ts'
import * as repo from './deliveries.repository.ts'
import type { DeliveryRow } from './deliveries.table.ts'
import * as consequences from './settle-consequences.repository.ts'
import type { DeliveryResult, EmailTransport, WebhookTransport } from './transports/transport.ts'

export interface WorkerOptions extends ComposeOptions {
  /** Deliveries claimed at once. */
  batchSize: number
  /** How long a claim lasts before another worker may take the delivery over. */
  leaseSeconds: number
  /** How long to sleep when nothing was due. */
  pollMs: number
  /** Batches in flight at once (default 1). */
  lanes?: number
  /** First retry delay; doubles each attempt (BACKOFF_BASE_SECONDS in retry-policy.ts, less in tests). */
  backoffBaseSeconds: number
}

export interface WorkerDeps {
  db: Db
  email: EmailTransport
  webhook: WebhookTransport
  secrets: SecretDeriver
  options: WorkerOptions
  log: { info(o: object, m?: string): void; warn(o: object, m?: string): void; error(o: object, m?: string): void }
  /** Other periodic work (broadcast batches, review reminders), run between delivery batches. */
  chores?: (() => Promise<unknown>)[]
  /** The time a webhook is signed with and an endpoint's disabling is dated (default: the system's). */
  clock?: Clock
  /**
   * `refused`: a mail server refused a recipient for good (SMTP 5.1.x/5.2.x), in the settle's
   * transaction: the same path a late bounce takes (bounces/bounce-consequences.ts). `diverted`:
   * claimed mail to addresses suppressed since it was queued, not sent, routed to the fallback as
   * a bounce's is (bounces/suppressed-deliveries.ts).
   */
  bounces: Pick<BounceService, 'refused' | 'diverted'>
}

export type Worker = ReturnType<typeof createWorker>

/** A claimed delivery and what sending it answered. */
type Sent = { d: ClaimedDelivery; r: DeliveryResult }

/** What the liveness probe is told: whether every lane of the loop moved recently enough. */
export interface WorkerLiveness {
  alive: boolean
  /** Since the slowest lane last moved; undefined before start or after stop. */
  beatAgeMs: number | undefined
  limitMs: number
}

/**
 * How long a lane may go without moving before the worker counts as stalled: its sends are
 * bounded well inside the lease (transport timeouts), and a batch that outlives its lease has
 * lost its claim anyway (another worker takes the deliveries over), so a lane silent for a lease
 * and a poll sleep is stuck (a transport that never answers, a lost database wait), not busy.
 */
export const stallLimitMs = (o: Pick<WorkerOptions, 'leaseSeconds' | 'pollMs'>) => o.leaseSeconds * 1000 + o.pollMs

/**
 * The delivery worker: claim a batch, send each delivery (outside any transaction: a slow SMTP
 * server holds no database lock), settle each with the claim's token. At-least-once: a worker
 * that dies between sending and settling leaves the delivery 'sending' until its lease ends, and
 * then another worker sends it again (the mail keeps its Message-ID, so receivers can drop it).
 */
export function createWorker(deps: WorkerDeps) {
  const { db, options: o } = deps
  const clock = deps.clock ?? systemClock
  let running = false
  let loop: Promise<void> | undefined
  const wakers = new Set<() => void>()
  /** When each lane last moved: began a turn, or finished its chores or its batch. */
  const beats: number[] = []

  async function send(d: ClaimedDelivery, content: Awaited<ReturnType<typeof loadContent>>): Promise<DeliveryResult> {
    // settled as diverted, never as a failure (settle)
    if (d.suppressed !== null) return { ok: false, retryable: false, detail: 'the address is suppressed' }
    if (d.channel === 'email') {
      const n = content.email.get(`${d.account_id}/${d.notification_id}`)
      if (!n) return { ok: false, retryable: false, detail: 'the notification no longer exists' }
      return deps.email.send(composeEmail(d, n, o, deps.secrets))
    }
    const payload = content.webhook.events.get(`${d.account_id}/${d.event_id}`)
    const endpoint = content.webhook.endpoints.get(d.endpoint_id!)
    if (payload === undefined || !endpoint)
      return { ok: false, retryable: false, detail: 'the event or endpoint no longer exists' }
    if (endpoint.status !== 'enabled') return { ok: false, retryable: false, detail: 'the endpoint is disabled' }
    return deps.webhook.send({
      url: endpoint.url,
      secret: deps.secrets.secretFor(d.endpoint_id!),
      // the same id on every attempt: receivers deduplicate by it (Standard Webhooks)
      msgId: d.id,
      timestamp: clock.now(),
      body: typeof payload === 'string' ? payload : JSON.stringify(payload),
    })
  }

  async function loadContent(batch: ClaimedDelivery[]) {
    const emails = batch.filter((d) => d.channel === 'email' && d.suppressed === null)
    const hooks = batch.filter((d) => d.channel === 'webhook')
    return {
      email: await repo.loadEmailContent(
        db,
        emails.map((d) => ({ account_id: d.account_id, notification_id: d.notification_id! })),
      ),
      webhook: await repo.loadWebhookContent(
        db,
        hooks.map((d) => ({ account_id: d.account_id, event_id: d.event_id!, endpoint_id: d.endpoint_id! })),
      ),
    }
  }

  /**
   * Settles sent deliveries and their consequences in one transaction: one statement marks every
   * success, failures are recorded one by one (they are rare), then the notifications whose last
   * delivery this was get their outcome event. A transaction per delivery made one worker spend
   * most of its time in database round trips (bench/README.md). A serialization failure or a
   * deadlock is tried again (db/transaction.ts): giving up would leave the sent mail to go out again
   * once its lease runs out. Mail to addresses suppressed since it was queued was not sent: it is
   * diverted to its fallback, in one go.
   */
  async function settle(sent: Sent[], token: string): Promise<void> {
    await transaction(db, async (trx) => {
      const ok = sent.filter((s) => s.r.ok).map((s) => s.d)
      const delivered = new Set((await repo.settleDelivered(trx, ok, token)).map((d) => `${d.account_id}/${d.id}`))
      const settled: DeliveryRow[] = ok.filter((d) => delivered.has(`${d.account_id}/${d.id}`))
      const suppressed = sent.filter((s) => s.d.suppressed !== null).map((s) => s.d)
      if (suppressed.length > 0) settled.push(...(await deps.bounces.diverted(trx, suppressed, token)))
      for (const { d, r } of sent) {
        if (r.ok || d.suppressed !== null) continue
        const status = await repo.settleFailed(trx, d, token, {
          retryable: r.retryable,
          detail: r.detail,
          retryAfterSeconds: (r.retryAfterMs ?? 0) / 1000,
          backoffBaseSeconds: o.backoffBaseSeconds,
        })
        if (!status) continue
        if (r.recipientRejected && d.channel === 'email') await deps.bounces.refused(trx, d, r.detail)
        if (r.disableEndpoint)
          await consequences.disableEndpoint(trx, d.endpoint_id!, `410 Gone at ${clock.now().toISOString()}`)
        if (status === 'failed') settled.push(d)
      }
      const emails = settled.filter((d) => d.channel === 'email')
      await emitNotificationOutcomes(
        trx,
        emails.map((d) => ({ account_id: d.account_id, notification_id: d.notification_id! })),
      )
    })
  }

  /** Settles the batch together; should that fail, each delivery alone, so one bad row cannot hold back the rest. */
  async function settleAll(sent: Sent[], token: string): Promise<void> {
    try {
      await settle(sent, token)
      return
    } catch (err) {
      if (sent.length === 1) {
        // the lease will run out and another attempt follows: at-least-once, never lost
        deps.log.error({ err, delivery: sent[0]!.d.id }, 'settling a delivery failed')
        return
      }
      deps.log.warn({ err }, 'settling a batch failed; settling its deliveries one by one')
    }
    for (const one of sent) await settleAll([one], token)
  }

  /** Claims and delivers one batch; answers how many deliveries it settled. */
  async function runOnce(): Promise<number> {
    const token = randomUUID()
    const batch = await repo.claimDeliveries(db, { limit: o.batchSize, leaseSeconds: o.leaseSeconds, token })
    if (batch.length === 0) return 0
    const content = await loadContent(batch)
    const sent = await Promise.all(
      batch.map(async (d) => {
        try {
          return { d, r: await send(d, content) }
        } catch (err) {
          // transports answer instead of throwing; anything thrown is our bug: retry, and say so
          deps.log.error({ err, delivery: d.id }, 'delivery threw')
          return {
            d,
            r: { ok: false, retryable: true, detail: 'internal error while sending' } satisfies DeliveryResult,
          }
        }
      }),
    )
    await settleAll(sent, token)
    return batch.length
  }

  async function runChores() {
    for (const chore of deps.chores ?? []) {
      try {
        await chore()
      } catch (err) {
        deps.log.error({ err }, 'worker chore failed')
      }
    }
  }

  return {
    runOnce,
    runChores,

    /**
     * Runs until stop(): batches back to back while there is work, else a poll sleep. With
     * `lanes` > 1, that many batches are in flight at once (each its own claim), so the mail
     * server is kept busy while another batch settles; chores run in the first lane only.
     */
    start() {
      if (running) return
      running = true
      const lane = async (i: number) => {
        const first = i === 0
        while (running) {
          beats[i] = Date.now()
          if (first) {
            await runChores()
            beats[i] = Date.now()
          }
          let n = 0
          try {
            n = await runOnce()
          } catch (err) {
            deps.log.error({ err }, 'claiming deliveries failed')
          }
          beats[i] = Date.now()
          if (n === 0 && running) {
            await new Promise<void>((resolve) => {
              const wake = () => {
                clearTimeout(timer)
                wakers.delete(wake)
                resolve()
              }
              const timer = setTimeout(wake, o.pollMs)
              wakers.add(wake)
            })
          }
        }
      }
      const lanes = o.lanes ?? 1
      for (let i = 0; i < lanes; i++) beats[i] = Date.now()
      loop = Promise.all(Array.from({ length: lanes }, (_, i) => lane(i))).then(() => {})
    },

    /** Whether the loop is running and every lane moved within stallLimitMs (the liveness probe). */
    liveness(): WorkerLiveness {
      const limitMs = stallLimitMs(o)
      if (!running || beats.length === 0) return { alive: false, beatAgeMs: undefined, limitMs }
      const beatAgeMs = Date.now() - Math.min(...beats)
      return { alive: beatAgeMs <= limitMs, beatAgeMs, limitMs }
    },

    /** Wakes a sleeping worker (new work was just queued in this process). Polling alone is correct. */
    nudge() {
      for (const wake of [...wakers]) wake()
    },

    /** Stops claiming, lets the batches in flight finish and settle, then resolves. */
    async stop() {
      running = false
      for (const wake of [...wakers]) wake()
      await loop
      beats.length = 0
    },
  }
}
