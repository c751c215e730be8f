import { type RawBuilder, sql } from 'kysely'

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
 * Deletes old rows of `table` (notifications or events) that nothing is still sending, with their
 * deliveries (ON DELETE CASCADE): a row with a delivery (found by `deliveryColumn`) that is
 * queued, sending or retrying stays, whatever its age. The check cannot go stale under the lock:
 * a delivery never goes back from delivered or failed to an open status, and deliveries are only
 * ever inserted together with their notification or event; a delivery a worker holds is 'sending'
 * as committed, so its parent is never picked while the worker settles it (which also locks the
 * parent: SKIP LOCKED passes it).
 */
const pruneWithDeliveries =
  (table: 'notifications' | 'events', deliveryColumn: 'notification_id' | 'event_id') => (db: Db, r: BatchRange) =>
    run(
      db,
      sql`
      with picked as (
        select p.account_id, p.id from ${sql.table(table)} p
        where p.created_at < ${r.before} and p.created_at >= ${r.from}
          and not exists (
            select 1 from deliveries d
            where d.account_id = p.account_id and ${sql.ref(`d.${deliveryColumn}`)} = p.id and d.status in ('queued', 'sending', 'retrying'))
        order by p.created_at
        limit ${r.limit}
        for update of p skip locked
      ),
      gone as (
        delete from ${sql.table(table)} t using picked p
        where t.account_id = p.account_id and t.id = p.id
        returning t.created_at
      )
      select count(*)::int as deleted, max(created_at) as last from gone`,
    )

/** Deletes old notifications with their email deliveries; one still being sent stays. */
export const pruneNotifications = pruneWithDeliveries('notifications', 'notification_id')

/** Deletes old webhook events with their webhook deliveries; one still being sent stays. */
export const pruneEvents = pruneWithDeliveries('events', 'event_id')

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

/** Deletes old reports of bounces and deliveries (bounces/mail-events.table.ts), by when they came in. */
export const pruneMailEvents = (db: Db, r: BatchRange) =>
  run(
    db,
    sql`
      with picked as (
        select source, event_id from mail_events
        where received_at < ${r.before} and received_at >= ${r.from}
        order by received_at
        limit ${r.limit}
        for update skip locked
      ),
      gone as (
        delete from mail_events m using picked p
        where m.source = p.source and m.event_id = p.event_id
        returning m.received_at
      )
      select count(*)::int as deleted, max(received_at) as last from gone`,
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
  for (const table of ['notifications', 'deliveries', 'events', 'idempotency_keys', 'audit_events', 'mail_events']) {
    await sql`vacuum ${sql.table(table)}`.execute(db)
  }
}
