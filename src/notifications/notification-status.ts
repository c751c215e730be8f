import type { Db } from '../db/database.ts'
import type { DeliveryStatus } from '../delivery/deliveries.table.ts'
import { emitEvents } from '../webhooks/events.ts'
import * as repo from './notifications.repository.ts'
import type { NotificationRow } from './notifications.table.ts'

/*
 * A notification's status, and the webhook event raised when it is settled, from one definition:
 * the API derives the status from the deliveries it lists, the worker from counts it reads in SQL
 * when a notification's delivery settles, and both go through `notificationStatus`.
 */

/** How many of a notification's deliveries are in each status; a status with none may be absent. */
export type DeliveryCounts = Partial<Record<DeliveryStatus, number>>

export type NotificationStatus =
  'queued' | 'sending' | 'delivered' | 'partially_failed' | 'failed' | 'undeliverable' | 'cancelled'

export function countByStatus(deliveries: readonly { status: DeliveryStatus }[]): DeliveryCounts {
  const counts: DeliveryCounts = {}
  for (const d of deliveries) counts[d.status] = (counts[d.status] ?? 0) + 1
  return counts
}

/** A notification's status, from its row's and its deliveries'. */
export function notificationStatus(rowStatus: NotificationRow['status'], counts: DeliveryCounts): NotificationStatus {
  if (rowStatus === 'undeliverable') return 'undeliverable'
  const n = (s: DeliveryStatus) => counts[s] ?? 0
  const total =
    n('queued') + n('sending') + n('retrying') + n('delivered') + n('failed') + n('cancelled') + n('bounced')
  if (total > 0 && n('delivered') === total) return 'delivered'
  const open = n('queued') + n('sending') + n('retrying')
  // a bounce is a failure for good; its fallback, if any, is a delivery of its own
  const failed = n('failed') + n('bounced')
  if (open === 0 && failed > 0) return n('delivered') > 0 ? 'partially_failed' : 'failed'
  // its broadcast was cancelled: what was not sent by then never will be
  if (open === 0 && n('cancelled') > 0) return 'cancelled'
  return n('sending') + n('delivered') + failed + n('retrying') > 0 ? 'sending' : 'queued'
}

/**
 * The event a notification in this status raises once its last delivery has settled, or none
 * while one is still open. A notification of a cancelled broadcast raises `notification.delivered`
 * when none of what was sent failed: the event's counts say how many went.
 */
export function outcomeEvent(status: NotificationStatus): 'notification.delivered' | 'notification.failed' | undefined {
  switch (status) {
    case 'delivered':
    case 'cancelled':
      return 'notification.delivered'
    case 'failed':
    case 'partially_failed':
      return 'notification.failed'
    default:
      return undefined
  }
}

/**
 * For each notification whose last delivery has now settled, emits `notification.delivered` (all
 * went) or `notification.failed` (some failed for good), in the settle's transaction. The
 * notification rows are locked first, in key order, so that of two workers settling a
 * notification's last two deliveries at once exactly one sees the other's result, and two batches
 * never wait on each other in a circle. System mail (kind `system`) raises nothing.
 */
export async function emitNotificationOutcomes(
  db: Db,
  keys: { account_id: string; notification_id: string }[],
): Promise<void> {
  const unique = [...new Map(keys.map((k) => [`${k.account_id}/${k.notification_id}`, k])).values()]
  if (unique.length === 0) return
  const notifications = await repo.lockNotifications(db, unique)
  const ours = notifications.filter((n) => n.kind === 'notification')
  if (ours.length === 0) return
  const counts = new Map<string, DeliveryCounts>()
  for (const c of await repo.countDeliveriesByStatus(db, ours)) {
    const key = `${c.account_id}/${c.notification_id}`
    counts.set(key, { ...counts.get(key), [c.status]: c.n })
  }
  await emitEvents(
    db,
    ours.flatMap((n) => {
      const c = counts.get(`${n.account_id}/${n.id}`)
      const type = c && outcomeEvent(notificationStatus(n.status, c))
      if (!c || !type) return []
      return [
        {
          accountId: n.account_id,
          type,
          data: {
            notificationId: n.id,
            category: n.category,
            test: n.is_test,
            delivered: c.delivered ?? 0,
            failed: (c.failed ?? 0) + (c.bounced ?? 0),
          },
        },
      ]
    }),
  )
}
