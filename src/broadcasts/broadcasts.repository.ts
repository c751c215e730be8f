import { type Insertable, sql } from 'kysely'

import type { Db } from '../db/database.ts'
import { CANCELLED_DETAIL } from '../delivery/deliveries.repository.ts'
import { fanOutCounts } from '../notifications/fan-out.repository.ts'
import type { CategoryRule } from '../routing/routing-policy.ts'
import type { BroadcastRow, BroadcastsTable } from './broadcasts.table.ts'

export const insertBroadcast = (db: Db, row: Insertable<BroadcastsTable>): Promise<BroadcastRow> =>
  db.insertInto('broadcasts').values(row).returningAll().executeTakeFirstOrThrow()

export const findBroadcast = (db: Db, id: string) =>
  db.selectFrom('broadcasts').selectAll().where('id', '=', id).executeTakeFirst()

/** How many accounts a broadcast reaches: all, or those of the listed ids that exist. */
export async function countTargets(db: Db, accountIds: string[] | null): Promise<number> {
  const res = accountIds
    ? await sql<{ n: number }>`select count(*)::int as n from accounts where id = any(${accountIds}::text[])`.execute(
        db,
      )
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
export const lockBroadcast = (db: Db, id: string) =>
  db.selectFrom('broadcasts').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()

/** Whether any mail of the broadcast is still waiting to go out (queued, or for a retry). */
export async function hasOpenDeliveries(db: Db, broadcastId: string): Promise<boolean> {
  const res = await sql<{ open: boolean }>`
    select exists (
      select 1 from notifications n join deliveries d on d.account_id = n.account_id and d.notification_id = n.id
      where n.broadcast_id = ${broadcastId} and d.status in ('queued', 'retrying')
    ) as open`.execute(db)
  return res.rows[0]!.open
}

/**
 * Cancels the open deliveries (queued, or waiting for a retry) of the broadcast's notifications
 * for the next `limit` accounts after `cursor`, in account id order, and adds them to the
 * broadcast's count; answers the last account walked (null when none was left). The walk follows
 * the accounts' primary key and each account's notification id (`<broadcast>.<account>`, index
 * `deliveries_notification`), so every batch costs its own size, not the broadcast's. SKIP LOCKED
 * passes a row a worker's claim is taking at that moment: the claim itself cancels it (the
 * broadcast is cancelled by then) or has just started sending it. Running a batch again changes
 * nothing.
 */
export async function cancelOpenDeliveries(
  db: Db,
  broadcastId: string,
  cursor: string,
  limit: number,
): Promise<{ cursor: string | null; cancelled: number }> {
  const res = await sql<{ cursor: string | null; n: number }>`
    with walked as (
      select id from accounts where id > ${cursor} order by id limit ${limit}
    ), open as (
      select d.account_id, d.id from walked a
      join deliveries d on d.account_id = a.id and d.notification_id = ${broadcastId + '.'} || a.id
      where d.status in ('queued', 'retrying')
      for update of d skip locked
    ), cancelled as (
      update deliveries d
      set status = 'cancelled', last_error = ${CANCELLED_DETAIL}, lock_token = null, updated_at = now()
      from open
      where d.account_id = open.account_id and d.id = open.id
      returning 1
    ), counted as (
      update broadcasts set cancelled_deliveries = cancelled_deliveries + (select count(*) from cancelled)
      where id = ${broadcastId}
    )
    select (select max(id) from walked) as cursor, (select count(*)::int from cancelled) as n`.execute(db)
  const row = res.rows[0]!
  return { cursor: row.cursor, cancelled: row.n }
}

/** Marks the broadcast cancelled (no batch is fanned out after it; workers no longer send its mail). */
export const markCancelled = (db: Db, id: string, c: { by: string; finished: boolean }): Promise<BroadcastRow> =>
  db
    .updateTable('broadcasts')
    .set({
      status: 'cancelled' as const,
      // clock_timestamp(), as advanced_at: the cancel waited for the lock of a batch being fanned
      // out, and now() (the transaction's start) would date it before that batch
      cancelled_at: sql<Date>`clock_timestamp()`,
      cancelled_by: c.by,
      ...(c.finished ? {} : { finished_at: sql<Date>`clock_timestamp()` }),
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow()

/** The next batch of target account ids after the cursor, in id order. */
export async function nextAccountIds(db: Db, b: BroadcastRow, limit: number): Promise<string[]> {
  let q = db
    .selectFrom('accounts')
    .select('id')
    .where('id', '>', b.cursor ?? '')
  if (b.account_ids) q = q.where('id', '=', sql<string>`any(${b.account_ids}::text[])`)
  const rows = await q.orderBy('id').limit(limit).execute()
  return rows.map((r) => r.id)
}

/**
 * Fans the broadcast out to the accounts `ids`, in one statement (notifications/fan-out.repository.ts).
 * Each account's notification id is `<broadcast>.<account>`, so a batch run again inserts nothing.
 * The text is stored once, on the broadcast: its mail is rendered from there.
 */
export async function fanOutBatch(
  db: Db,
  b: BroadcastRow,
  ids: string[],
  rule: CategoryRule,
  maxAttempts: number,
): Promise<{ queued: number; undeliverable: number }> {
  // For this batch's transaction only (the caller's): the routing's estimates grow with the
  // accounts' trees, and above jit_above_cost PostgreSQL compiled the statement first, which cost
  // more than running it (EXPLAIN ANALYZE of a batch of 2,000 accounts in trees of 10, benchmark
  // 13's data: JIT 3.0 s of 3.4 s; the statement alone, jit off, 0.3-0.5 s)
  await sql`set local jit = off`.execute(db)
  return fanOutCounts(db, sql`select unnest(${ids}::text[]) as id`, rule, sql<string>`${b.id + '.'} || r.account_id`, {
    category: b.category,
    subject: b.subject,
    text: null,
    broadcastId: b.id,
    actor: { type: b.actor_type, id: b.actor_id },
    requestId: null,
    maxAttempts,
  })
}

export const advanceBroadcast = (
  db: Db,
  id: string,
  step: { accounts: number; cursor: string | null; notifications: number; undeliverable: number; done: boolean },
) =>
  db
    .updateTable('broadcasts')
    .set((eb) => ({
      processed: eb('processed', '+', step.accounts),
      notifications: eb('notifications', '+', step.notifications),
      undeliverable: eb('undeliverable', '+', step.undeliverable),
      cursor: step.cursor,
      // clock_timestamp(), not now(): the time of this batch, not of its transaction's start (and
      // so for finished_at: when the last batch was fanned out)
      advanced_at: sql<Date>`clock_timestamp()`,
      ...(step.done ? { status: 'done' as const, finished_at: sql<Date>`clock_timestamp()` } : {}),
    }))
    .where('id', '=', id)
    .execute()
