import type { Db } from '../db/database.ts'
import { transaction } from '../db/transaction.ts'
import { EMAIL_MAX_ATTEMPTS } from '../delivery/retry-policy.ts'
import type { RequestContext } from '../lib/actor.ts'
import { AppError } from '../lib/errors.ts'
import { newId } from '../lib/ids.ts'
import type { RoutingPolicy, SendableCategory } from '../routing/routing-policy.ts'
import * as repo from './broadcasts.repository.ts'
import type { Broadcast, CreateBroadcast } from './broadcasts.schemas.ts'
import type { BroadcastRow } from './broadcasts.table.ts'

/** Accounts fanned out per transaction: big enough that the database does the work, small enough to keep transactions short. */
const BROADCAST_BATCH = 2000

/** Accounts whose mail a cancel cancels per transaction: each one short, far inside the statement timeout. */
const CANCEL_BATCH = 10_000

const toBroadcast = (r: BroadcastRow): Broadcast => ({
  id: r.id,
  category: r.category,
  subject: r.subject,
  status: r.status,
  total: r.total,
  processed: r.processed,
  notifications: r.notifications,
  undeliverable: r.undeliverable,
  cancelledDeliveries: r.cancelled_deliveries,
  progress: r.total === 0 ? 1 : Math.min(1, r.processed / r.total),
  createdAt: r.created_at.toISOString(),
  finishedAt: r.finished_at?.toISOString() ?? null,
  cancelledAt: r.cancelled_at?.toISOString() ?? null,
})

export type BroadcastService = ReturnType<typeof createBroadcastService>

/**
 * A broadcast sends one category to every account (or a list). The request only records it; the
 * workers fan it out batch by batch, each batch one INSERT … SELECT that resolves the recipients
 * of thousands of accounts at once (notifications/fan-out.repository.ts), with progress in the row.
 */
export function createBroadcastService({ db, policy }: { db: Db; policy: RoutingPolicy }) {
  return {
    async create(ctx: RequestContext, input: CreateBroadcast): Promise<Broadcast> {
      const accountIds = input.accountIds ?? null
      const row = await transaction(db, async (trx) =>
        repo.insertBroadcast(trx, {
          id: newId('bc'),
          category: input.category,
          subject: input.subject,
          text: input.text,
          html: input.html ?? null,
          account_ids: accountIds,
          total: await repo.countTargets(trx, accountIds),
          cursor: null,
          actor_type: ctx.actor.type,
          actor_id: ctx.actor.id,
          finished_at: null,
        }),
      )
      return toBroadcast(row)
    },

    async get(id: string): Promise<Broadcast> {
      const row = await repo.findBroadcast(db, id)
      if (!row) throw new AppError('not-found', { detail: `No broadcast "${id}".` })
      return toBroadcast(row)
    },

    /**
     * Stops a broadcast: no batch is fanned out after it, and the deliveries of its notifications
     * that no worker has taken yet are cancelled (one a worker is sending goes out). A broadcast
     * fanned out completely (done) whose mail is still going out is cancelled the same way; one
     * with nothing left to stop is answered as it is. Broadcasts are the platform's own, not an
     * account's, so there is no account audit log to write to: the row records who cancelled and when.
     *
     * First the broadcast is marked cancelled, in a transaction of its own (it waits for a batch
     * being fanned out to commit): from then on no batch follows and the workers' claim cancels,
     * instead of sending, any of its mail it comes to. Then its open deliveries are cancelled in
     * batches of CANCEL_BATCH accounts, each its own short transaction, so a broadcast to a
     * million accounts never runs into the statement timeout. A cancel interrupted there is
     * finished by calling it again (a cancelled broadcast is walked again; what is cancelled stays).
     */
    async cancel(ctx: RequestContext, id: string, batch = CANCEL_BATCH): Promise<Broadcast> {
      const marked = await transaction(db, async (trx) => {
        const b = await repo.lockBroadcast(trx, id)
        if (!b) throw new AppError('not-found', { detail: `No broadcast "${id}".` })
        if (b.status === 'cancelled') return b
        if (b.status === 'done' && !(await repo.hasOpenDeliveries(trx, b.id))) return b
        return repo.markCancelled(trx, b.id, { by: `${ctx.actor.type}:${ctx.actor.id}`, finished: b.status === 'done' })
      })
      if (marked.status !== 'cancelled') return toBroadcast(marked)
      for (let cursor: string | null = ''; cursor !== null;) {
        const from: string = cursor
        cursor = (await transaction(db, (trx) => repo.cancelOpenDeliveries(trx, marked.id, from, batch))).cursor
      }
      return toBroadcast((await repo.findBroadcast(db, id))!)
    },

    /**
     * Fans out the next batch of the running broadcast least recently advanced (see
     * repo.lockRunningBroadcast), in one transaction with the
     * progress update, so a crash repeats at most one batch and its deterministic ids make the
     * repeat insert nothing. Answers whether there was work.
     */
    async processBatch(batchSize = BROADCAST_BATCH): Promise<boolean> {
      return transaction(db, async (trx) => {
        const b = await repo.lockRunningBroadcast(trx)
        if (!b) return false
        const ids = await repo.nextAccountIds(trx, b, batchSize)
        const written =
          ids.length === 0
            ? { queued: 0, undeliverable: 0 }
            : await repo.fanOutBatch(trx, b, ids, policy[b.category as SendableCategory], EMAIL_MAX_ATTEMPTS)
        await repo.advanceBroadcast(trx, b.id, {
          accounts: ids.length,
          cursor: ids.at(-1) ?? b.cursor,
          notifications: written.queued,
          undeliverable: written.undeliverable,
          done: ids.length < batchSize,
        })
        return true
      })
    },
  }
}
