import { sql, type RawBuilder } from 'kysely'
import type { Db } from '../db/database.ts'

/*
 * One batch of the retention chore per statement: pick at most `limit` rows created before
 * `before`, oldest first, by the table's created_at index (migration 2026-12-01T23-00), lock them
 * with SKIP LOCKED and delete them. A single statement is a short transaction of its own: it holds
 * its row locks for one batch only, and two workers pruning at once take disjoint rows (each skips
 * what the other holds) instead of waiting on each other.
 *
 * `from` is where the previous batch of the same turn stopped (its newest row): the index scan
 * starts there rather than walking over the entries of rows the turn already deleted, which stay
 * in the index until vacuum. `>=`, as many rows share a timestamp (a broadcast batch writes 2,000
 * in one transaction); rows the batch skipped before `from` are seen again by the next turn.
 */

export interface PrunedBatch {
  /** Rows deleted (parents only: deliveries go with them by cascade). */
  deleted: number
  /** created_at of the newest row deleted: where the next batch of the turn starts. */
  last: Date | null
}

export interface BatchRange {
  before: Date
  from: Date
  limit: number
}

async function run(db: Db, query: RawBuilder<{ deleted: number; last: Date | string | null }>): Promise<PrunedBatch> {
  const row = (await query.execute(db)).rows[0]
  // pg answers max(timestamptz) of a CTE as a Date, PGlite as well; the string is for safety
  const last = row?.last == null ? null : new Date(row.last)
  return { deleted: row?.deleted ?? 0, last }
}

/**
 * Deletes old notifications that nothing is still sending, with their deliveries (ON DELETE
 * CASCADE). A notification with a delivery that is queued, sending or retrying stays, whatever its
 * age. The check cannot go stale under the lock: a delivery never goes back from delivered or
 * failed to an open status, and deliveries are only ever inserted together with their
 * notification; a delivery a worker holds is 'sending' as committed, so its notification is never
 * picked while the worker settles it (which also locks the notification: SKIP LOCKED passes it).
 */
export const pruneNotifications = (db: Db, r: BatchRange) =>
  run(
    db,
    sql`
      with picked as (
        select n.account_id, n.id from notifications n
        where n.created_at < ${r.before} and n.created_at >= ${r.from}
          and not exists (
            select 1 from deliveries d
            where d.account_id = n.account_id and d.notification_id = n.id and d.status in ('queued', 'sending', 'retrying'))
        order by n.created_at
        limit ${r.limit}
        for update of n skip locked
      ),
      gone as (
        delete from notifications n using picked p
        where n.account_id = p.account_id and n.id = p.id
        returning n.created_at
      )
      select count(*)::int as deleted, max(created_at) as last from gone`,
  )

/** Deletes old webhook events with their deliveries; an event with an open delivery stays (as above). */
export const pruneEvents = (db: Db, r: BatchRange) =>
  run(
    db,
    sql`
      with picked as (
        select e.account_id, e.id from events e
        where e.created_at < ${r.before} and e.created_at >= ${r.from}
          and not exists (
            select 1 from deliveries d
            where d.account_id = e.account_id and d.event_id = e.id and d.status in ('queued', 'sending', 'retrying'))
        order by e.created_at
        limit ${r.limit}
        for update of e skip locked
      ),
      gone as (
        delete from events e using picked p
        where e.account_id = p.account_id and e.id = p.id
        returning e.created_at
      )
      select count(*)::int as deleted, max(created_at) as last from gone`,
  )

/**
 * Deletes old idempotency keys. A key still 'running' that old belongs to a request that died
 * long ago (withIdempotency takes such keys over after minutes), so the status is not looked at.
 */
export const pruneIdempotencyKeys = (db: Db, r: BatchRange) =>
  run(
    db,
    sql`
      with picked as (
        select account_id, actor_id, key from idempotency_keys
        where created_at < ${r.before} and created_at >= ${r.from}
        order by created_at
        limit ${r.limit}
        for update skip locked
      ),
      gone as (
        delete from idempotency_keys k using picked p
        where k.account_id = p.account_id and k.actor_id = p.actor_id and k.key = p.key
        returning k.created_at
      )
      select count(*)::int as deleted, max(created_at) as last from gone`,
  )

/** Deletes old audit events (only when AUDIT_RETENTION_DAYS is set: the caller decides). */
export const pruneAuditEvents = (db: Db, r: BatchRange) =>
  run(
    db,
    sql`
      with picked as (
        select account_id, id from audit_events
        where at < ${r.before} and at >= ${r.from}
        order by at
        limit ${r.limit}
        for update skip locked
      ),
      gone as (
        delete from audit_events a using picked p
        where a.account_id = p.account_id and a.id = p.id
        returning a.at
      )
      select count(*)::int as deleted, max(at) as last from gone`,
  )

/**
 * VACUUM of the tables the chore prunes, so later rows reuse the space of the deleted ones. Only
 * for PGlite: it runs PostgreSQL in single-user mode, where no autovacuum runs; on a server,
 * autovacuum does this. Not in a transaction (VACUUM cannot be), and a statement per table: PGlite
 * runs one statement at a time, and requests get their turn between two tables.
 */
export async function vacuumHistory(db: Db): Promise<void> {
  for (const table of ['notifications', 'deliveries', 'events', 'idempotency_keys', 'audit_events']) {
    await sql`vacuum ${sql.table(table)}`.execute(db)
  }
}
