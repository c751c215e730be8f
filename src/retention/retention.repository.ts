import { type RawBuilder, sql } from 'kysely'

import type { Database, Db } from '../db/database.ts'

/*
 * One batch of the retention chore per statement (`pruneBy`): pick at most `limit` rows older than
 * `before`, oldest first, by an index on the table's time column (created_at mostly; migrations
 * 2026-12-01T23-00 and 2026-12-03T04-00), lock them
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
  /** The time (created_at, or the table's own) of the newest row deleted: where the next batch of the turn starts. */
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
 * One prune statement: at most `limit` rows of `table` whose `at` column is in the batch's range,
 * oldest first by that column's index, locked with SKIP LOCKED and deleted by their primary key
 * (`keys`). `unless` (over the alias `p`) keeps rows the age alone would take.
 */
const pruneBy =
  (table: keyof Database, keys: readonly string[], at: string, unless?: RawBuilder<boolean>) =>
  (db: Db, r: BatchRange) => {
    const ref = (alias: string, column: string) => sql.ref(`${alias}.${column}`)
    return run(
      db,
      sql`
      with picked as (
        select ${sql.join(keys.map((k) => ref('p', k)))}, ${ref('p', at)} as at from ${sql.table(table)} p
        where ${ref('p', at)} < ${r.before} and ${ref('p', at)} >= ${r.from}
          ${unless ? sql`and not ${unless}` : sql``}
        order by ${ref('p', at)}
        limit ${r.limit}
        for update of p skip locked
      ),
      gone as (
        delete from ${sql.table(table)} t using picked p
        where ${sql.join(
          keys.map((k) => sql`${ref('t', k)} = ${ref('p', k)}`),
          sql` and `,
        )}
        returning p.at
      )
      select count(*)::int as deleted, max(at) as last from gone`,
    )
  }

/**
 * A notification or event (`p`) with a delivery (found by `deliveryColumn`) that is queued,
 * sending or retrying: it stays, whatever its age, with its deliveries. The check cannot go stale
 * under the lock: a delivery never goes back from delivered or failed to an open status, and
 * deliveries are only ever inserted together with their notification or event; a delivery a
 * worker holds is 'sending' as committed, so its parent is never picked while the worker settles
 * it (which also locks the parent: SKIP LOCKED passes it).
 */
const inFlight = (deliveryColumn: 'notification_id' | 'event_id') => sql<boolean>`exists (
  select 1 from deliveries d
  where d.account_id = p.account_id and ${sql.ref(`d.${deliveryColumn}`)} = p.id
    and d.status in ('queued', 'sending', 'retrying'))`

/** Deletes old notifications with their email deliveries (ON DELETE CASCADE); one still being sent stays. */
export const pruneNotifications = pruneBy(
  'notifications',
  ['account_id', 'id'],
  'created_at',
  inFlight('notification_id'),
)

/** Deletes old webhook events with their webhook deliveries (ON DELETE CASCADE); one still being sent stays. */
export const pruneEvents = pruneBy('events', ['account_id', 'id'], 'created_at', inFlight('event_id'))

/**
 * Deletes old idempotency keys. A key still 'running' that old belongs to a request that died
 * long ago (withIdempotency takes such keys over after minutes), so the status is not looked at.
 */
export const pruneIdempotencyKeys = pruneBy('idempotency_keys', ['account_id', 'actor_id', 'key'], 'created_at')

/** Deletes old reports of bounces and deliveries (bounces/mail-events.table.ts), by when they came in. */
export const pruneMailEvents = pruneBy('mail_events', ['source', 'event_id'], 'received_at')

/** Deletes old audit events (only when AUDIT_RETENTION_DAYS is set: the caller decides). */
export const pruneAuditEvents = pruneBy('audit_events', ['account_id', 'id'], 'at')

/** Deletes correction requests dismissed long ago, by when they were dismissed; an open one (no dismissed_at) stays. */
export const pruneCorrectionRequests = pruneBy('correction_requests', ['account_id', 'id'], 'dismissed_at')

/**
 * Deletes the soft-bounce lock rows of addresses whose last soft bounce is older than the counting
 * window (SOFT_BOUNCE_DAYS). A row only makes reports of its address take turns; the count reads
 * mail_events, so deleting it changes no count, and the next soft bounce of the address makes it
 * again (lockAddresses). A row a report holds is locked, and SKIP LOCKED passes it.
 */
export const pruneSoftBounceAddresses = pruneBy('soft_bounce_addresses', ['account_id', 'email'], 'last_report_at')

/**
 * VACUUM of the tables the chore prunes, so later rows reuse the space of the deleted ones. Only
 * for PGlite: it runs PostgreSQL in single-user mode, where no autovacuum runs; on a server,
 * autovacuum does this. Not in a transaction (VACUUM cannot be), and a statement per table: PGlite
 * runs one statement at a time, and requests get their turn between two tables.
 */
export async function vacuumHistory(db: Db): Promise<void> {
  for (const table of [
    'notifications',
    'deliveries',
    'events',
    'idempotency_keys',
    'audit_events',
    'mail_events',
    'correction_requests',
    'soft_bounce_addresses',
  ]) {
    await sql`vacuum ${sql.table(table)}`.execute(db)
  }
}
