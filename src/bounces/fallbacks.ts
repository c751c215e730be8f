import type { Db } from '../db/database.ts'
import type { DeliveryRow } from '../delivery/deliveries.table.ts'
import type { Recipient } from '../routing/recipients.repository.ts'
import type { RoutingPolicy, SendableCategory } from '../routing/routing-policy.ts'
import { type FallbackTarget, queueFallbacks } from './bounce-batch.repository.ts'

type Undelivered = Pick<DeliveryRow, 'account_id' | 'id' | 'notification_id' | 'recipient' | 'max_attempts'>

export const notificationKey = (d: Pick<DeliveryRow, 'account_id' | 'notification_id'>) =>
  `${d.account_id}/${d.notification_id}`

/**
 * The fallback of a set of deliveries that will not arrive (bounced, or suppressed before they
 * went), in the caller's transaction, which holds their notifications' locks (`noteOf`, by
 * notificationKey): each notification is queued to whoever its category's rule chooses now, one
 * statement per category. A notification several of whose deliveries are in the set is routed
 * once, and its new deliveries stand in for the last of them, as the last one's routing would
 * have chosen them one by one. Our own mail has no category rule and gets none. Answers, by
 * notificationKey, the delivery stood in for and who was queued.
 */
export async function queueFallbacksOf(
  trx: Db,
  policy: RoutingPolicy,
  ds: Undelivered[],
  noteOf: Map<string, { kind: 'notification' | 'system'; category: string }>,
): Promise<Map<string, { deliveryId: string; recipients: Recipient[] }>> {
  const last = new Map(ds.filter((d) => d.notification_id).map((d) => [notificationKey(d), d]))
  const byCategory = new Map<SendableCategory, FallbackTarget[]>()
  for (const [key, d] of last) {
    const n = noteOf.get(key)
    if (n?.kind !== 'notification' || !policy[n.category as SendableCategory]) continue
    const targets = byCategory.get(n.category as SendableCategory) ?? []
    targets.push({
      accountId: d.account_id,
      notificationId: d.notification_id!,
      deliveryId: d.id,
      address: d.recipient,
      maxAttempts: d.max_attempts,
    })
    byCategory.set(n.category as SendableCategory, targets)
  }
  const queued = new Map<string, { deliveryId: string; recipients: Recipient[] }>()
  for (const [category, targets] of byCategory)
    for (const r of await queueFallbacks(trx, policy[category], targets)) {
      const key = `${r.account_id}/${r.notification_id}`
      queued.set(key, { deliveryId: last.get(key)!.id, recipients: r.recipients })
    }
  return queued
}
