import type { Db } from '../db/database.ts'
import type { ClaimedDelivery } from '../delivery/deliveries.repository.ts'
import type { DeliveryRow } from '../delivery/deliveries.table.ts'
import { lockNotifications } from '../notifications/notifications.repository.ts'
import type { RoutingPolicy } from '../routing/routing-policy.ts'
import { markSuppressed } from './bounce-batch.repository.ts'
import { notificationKey, queueFallbacksOf } from './fallbacks.ts'

/** The lastError of a delivery not sent because its address was suppressed after it was queued. */
const suppressedDetail = (reason: string) => `not sent: the address is on the suppression list (${reason})`

/**
 * Email deliveries the worker claimed and did not send, because their address went on the
 * account's suppression list after they were queued: in the settle's transaction, each becomes
 * `bounced`, with why, as a bounce marks its delivery, and its notification is queued to whoever
 * its category's rule chooses now, as a bounce's fallback is (queueFallbacksOf; the routing skips
 * the suppressed address). Nothing is announced: the "fix a contact" mails, the event and the
 * audit entry were written when the address was suppressed. Only the deliveries this claim still
 * holds (`token`); answers those it marked.
 */
export async function divertSuppressed(
  trx: Db,
  policy: RoutingPolicy,
  ds: ClaimedDelivery[],
  token: string,
): Promise<DeliveryRow[]> {
  const marked = await markSuppressed(
    trx,
    ds.map((d) => ({ account_id: d.account_id, id: d.id, reason: suppressedDetail(d.suppressed ?? '') })),
    token,
  )
  const ofNotification = marked.filter((d) => d.notification_id)
  if (ofNotification.length === 0) return marked
  // in key order, after the deliveries, as a bounce locks: two deliveries of one notification
  // diverted or bounced at once take turns, and the second's routing sees the first's fallback
  const notifications = await lockNotifications(
    trx,
    ofNotification.map((d) => ({ account_id: d.account_id, notification_id: d.notification_id! })),
  )
  await queueFallbacksOf(
    trx,
    policy,
    ofNotification,
    new Map(notifications.map((n) => [notificationKey({ account_id: n.account_id, notification_id: n.id }), n])),
  )
  return marked
}
