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
 * Takes the oldest running broadcast for this transaction. SKIP LOCKED: another worker busy with
 * one broadcast takes the next, and two never fan out the same batch.
 */
export const lockRunningBroadcast = (db: Db) =>
  db.selectFrom('broadcasts').selectAll().where('status', '=', 'running').orderBy('created_at').limit(1).forUpdate().skipLocked().executeTakeFirst()

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
      ...(step.done ? { status: 'done' as const, finished_at: new Date() } : {}),
    }))
    .where('id', '=', id)
    .execute()
