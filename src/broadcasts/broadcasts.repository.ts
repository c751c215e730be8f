import { sql, type Insertable } from 'kysely'
import type { Db } from '../db/database.ts'
import type { BroadcastRow, BroadcastsTable } from './broadcasts.table.ts'

export const insertBroadcast = (db: Db, row: Insertable<BroadcastsTable>): Promise<BroadcastRow> =>
  db.insertInto('broadcasts').values(row).returningAll().executeTakeFirstOrThrow()

export const findBroadcast = (db: Db, id: string) => db.selectFrom('broadcasts').selectAll().where('id', '=', id).executeTakeFirst()

/** How many accounts a broadcast reaches: all, or those of the listed ids that exist. */
export async function countTargets(db: Db, accountIds: string[] | null): Promise<number> {
  const res = accountIds
    ? await sql<{ n: number }>`select count(*)::int as n from accounts where id = any(${accountIds}::text[])`.execute(db)
    : await sql<{ n: number }>`select count(*)::int as n from accounts`.execute(db)
  return res.rows[0]!.n
}

/**
 * Takes, for this transaction, the running broadcast whose last batch is the longest ago (one not
 * yet started first, then the oldest): each turn goes to another broadcast, so one started later
 * advances beside a large earlier one instead of waiting for it to finish. SKIP LOCKED: a worker
 * busy with one broadcast makes the next worker take the next in that order, and two never fan
 * out the same batch. The order is the partial index `broadcasts_running`.
 */
export const lockRunningBroadcast = (db: Db) =>
  db
    .selectFrom('broadcasts')
    .selectAll()
    .where('status', '=', 'running')
    .orderBy(sql`advanced_at nulls first`)
    .orderBy('created_at')
    .orderBy('id')
    .limit(1)
    .forUpdate()
    .skipLocked()
    .executeTakeFirst()

/**
 * Takes one broadcast for a cancel, waiting for a batch being fanned out (which holds it) to
 * commit: after the cancel, every notification of the broadcast is visible to it, and no batch follows.
 */
export const lockBroadcast = (db: Db, id: string) => db.selectFrom('broadcasts').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()

/**
 * Cancels the deliveries of the broadcast's notifications that no worker has taken yet (queued, or
 * waiting for a retry); one a worker is sending goes out. A worker's claim locks what it takes
 * (SKIP LOCKED passes what this holds), and a row claimed meanwhile is 'sending' when this
 * re-reads it, so it is left alone. Answers how many were cancelled.
 */
export async function cancelOpenDeliveries(db: Db, broadcastId: string): Promise<number> {
  const res = await sql<{ n: number }>`
    with cancelled as (
      update deliveries d
      set status = 'cancelled', last_error = 'the broadcast was cancelled', lock_token = null, updated_at = now()
      from notifications n
      where n.broadcast_id = ${broadcastId} and d.account_id = n.account_id and d.notification_id = n.id
        and d.status in ('queued', 'retrying')
      returning 1
    )
    select count(*)::int as n from cancelled`.execute(db)
  return res.rows[0]?.n ?? 0
}

export const markCancelled = (db: Db, id: string, c: { by: string; deliveries: number; finished: boolean }): Promise<BroadcastRow> =>
  db
    .updateTable('broadcasts')
    .set((eb) => ({
      status: 'cancelled' as const,
      cancelled_at: new Date(),
      cancelled_by: c.by,
      cancelled_deliveries: eb('cancelled_deliveries', '+', c.deliveries),
      ...(c.finished ? {} : { finished_at: new Date() }),
    }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow()

/** The next batch of target account ids after the cursor, in id order. */
export async function nextAccountIds(db: Db, b: BroadcastRow, limit: number): Promise<string[]> {
  let q = db.selectFrom('accounts').select('id').where('id', '>', b.cursor ?? '')
  if (b.account_ids) q = q.where('id', '=', sql<string>`any(${b.account_ids}::text[])`)
  const rows = await q.orderBy('id').limit(limit).execute()
  return rows.map((r) => r.id)
}

export const advanceBroadcast = (db: Db, id: string, step: { accounts: number; cursor: string | null; notifications: number; undeliverable: number; done: boolean }) =>
  db
    .updateTable('broadcasts')
    .set((eb) => ({
      processed: eb('processed', '+', step.accounts),
      notifications: eb('notifications', '+', step.notifications),
      undeliverable: eb('undeliverable', '+', step.undeliverable),
      cursor: step.cursor,
      // clock_timestamp(), not now(): the time of this batch, not of its transaction's start
      advanced_at: sql<Date>`clock_timestamp()`,
      ...(step.done ? { status: 'done' as const, finished_at: new Date() } : {}),
    }))
    .where('id', '=', id)
    .execute()
