import { sql } from 'kysely'
import type { Db } from '../db/database.ts'
import { emitEvent } from '../webhooks/events.ts'

/** A mail server refused this address for good: the account's health lists it until it changes. */
export async function markAddressUndeliverable(db: Db, accountId: string, email: string, reason: string): Promise<void> {
  await db
    .insertInto('undeliverable_addresses')
    .values({ account_id: accountId, email: email.toLowerCase(), reason: reason.slice(0, 500), at: new Date() })
    .onConflict((oc) => oc.columns(['account_id', 'email']).doUpdateSet({ reason: reason.slice(0, 500), at: new Date() }))
    .execute()
}

/** An address that took a mail again is deliverable again. */
export async function clearAddressUndeliverable(db: Db, accountId: string, email: string): Promise<void> {
  await db.deleteFrom('undeliverable_addresses').where('account_id', '=', accountId).where('email', '=', email.toLowerCase()).execute()
}

/** The endpoint answered 410 Gone: no more deliveries to it, with the reason shown in the API. */
export async function disableEndpoint(db: Db, endpointId: string, reason: string): Promise<void> {
  await db.updateTable('webhook_endpoints').set({ status: 'disabled', disabled_reason: reason }).where('id', '=', endpointId).execute()
}

/**
 * When the last delivery of a notification settles, emits `notification.delivered` (all went) or
 * `notification.failed` (some failed for good). The notification row is locked first, so that of
 * two workers settling the last two deliveries at once, exactly one sees the other's result.
 */
export async function emitNotificationOutcome(db: Db, accountId: string, notificationId: string): Promise<void> {
  const n = await db
    .selectFrom('notifications')
    .select(['id', 'category', 'kind', 'is_test'])
    .where('account_id', '=', accountId)
    .where('id', '=', notificationId)
    .forUpdate()
    .executeTakeFirst()
  if (!n || n.kind !== 'notification') return
  const counts = await sql<{ open: number; failed: number; delivered: number }>`
    select count(*) filter (where status in ('queued', 'sending', 'retrying'))::int as open,
           count(*) filter (where status = 'failed')::int as failed,
           count(*) filter (where status = 'delivered')::int as delivered
    from deliveries where account_id = ${accountId} and notification_id = ${notificationId}`.execute(db)
  const c = counts.rows[0]!
  if (c.open > 0) return
  await emitEvent(db, accountId, c.failed > 0 ? 'notification.failed' : 'notification.delivered', {
    notificationId,
    category: n.category,
    test: n.is_test,
    delivered: c.delivered,
    failed: c.failed,
  })
}
