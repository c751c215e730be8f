import { sql } from 'kysely'

import type { Db } from '../db/database.ts'
import { emitEvents } from '../webhooks/events.ts'

/** A mail server refused this address for good: the account's health lists it until it changes. */
export async function markAddressUndeliverable(
  db: Db,
  accountId: string,
  email: string,
  reason: string,
): Promise<void> {
  await db
    .insertInto('undeliverable_addresses')
    .values({ account_id: accountId, email: email.toLowerCase(), reason: reason.slice(0, 500), at: new Date() })
    .onConflict((oc) =>
      oc.columns(['account_id', 'email']).doUpdateSet({ reason: reason.slice(0, 500), at: new Date() }),
    )
    .execute()
}

/** Addresses that took a mail again are deliverable again. */
export async function clearAddressesUndeliverable(
  db: Db,
  addresses: { account_id: string; email: string }[],
): Promise<void> {
  if (addresses.length === 0) return
  await db
    .deleteFrom('undeliverable_addresses')
    .where((eb) =>
      eb.or(
        addresses.map((a) => eb.and([eb('account_id', '=', a.account_id), eb('email', '=', a.email.toLowerCase())])),
      ),
    )
    .execute()
}

/** The endpoint answered 410 Gone: no more deliveries to it, with the reason shown in the API. */
export async function disableEndpoint(db: Db, endpointId: string, reason: string): Promise<void> {
  await db
    .updateTable('webhook_endpoints')
    .set({ status: 'disabled', disabled_reason: reason })
    .where('id', '=', endpointId)
    .execute()
}

/**
 * For each notification whose last delivery has now settled, emits `notification.delivered` (all
 * went) or `notification.failed` (some failed for good). The notification rows are locked first,
 * in key order, so that of two workers settling a notification's last two deliveries at once
 * exactly one sees the other's result, and two batches never wait on each other in a circle.
 */
export async function emitNotificationOutcomes(
  db: Db,
  keys: { account_id: string; notification_id: string }[],
): Promise<void> {
  const unique = [...new Map(keys.map((k) => [`${k.account_id}/${k.notification_id}`, k])).values()]
  if (unique.length === 0) return
  const notifications = await db
    .selectFrom('notifications')
    .select(['account_id', 'id', 'category', 'kind', 'is_test'])
    .where((eb) =>
      eb.or(unique.map((k) => eb.and([eb('account_id', '=', k.account_id), eb('id', '=', k.notification_id)]))),
    )
    .orderBy('account_id')
    .orderBy('id')
    .forUpdate()
    .execute()
  const ours = notifications.filter((n) => n.kind === 'notification')
  if (ours.length === 0) return
  const counts = await db
    .selectFrom('deliveries')
    .select([
      'account_id',
      'notification_id',
      sql<number>`count(*) filter (where status in ('queued', 'sending', 'retrying'))::int`.as('open'),
      sql<number>`count(*) filter (where status = 'failed')::int`.as('failed'),
      sql<number>`count(*) filter (where status = 'delivered')::int`.as('delivered'),
    ])
    .where((eb) =>
      eb.or(ours.map((n) => eb.and([eb('account_id', '=', n.account_id), eb('notification_id', '=', n.id)]))),
    )
    .groupBy(['account_id', 'notification_id'])
    .execute()
  const byKey = new Map(counts.map((c) => [`${c.account_id}/${c.notification_id}`, c]))
  await emitEvents(
    db,
    ours.flatMap((n) => {
      const c = byKey.get(`${n.account_id}/${n.id}`)
      if (!c || c.open > 0) return []
      const type = c.failed > 0 ? ('notification.failed' as const) : ('notification.delivered' as const)
      return [
        {
          accountId: n.account_id,
          type,
          data: {
            notificationId: n.id,
            category: n.category,
            test: n.is_test,
            delivered: c.delivered,
            failed: c.failed,
          },
        },
      ]
    }),
  )
}
