import { sql } from 'kysely'

import type { Db } from '../db/database.ts'
import { anyOf, whereKeys } from '../db/keys.ts'
import type { DeliveryRow, DeliveryStatus } from '../delivery/deliveries.table.ts'
import type { Recipient } from '../routing/recipients.repository.ts'
import type { NotificationRow } from './notifications.table.ts'

export const findNotification = (db: Db, accountId: string, id: string): Promise<NotificationRow | undefined> =>
  db.selectFrom('notifications').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst()

/** Newest first (ids are time-ordered). */
export const listNotifications = (db: Db, accountId: string, page: { limit: number; cursor?: string | undefined }) => {
  let q = db.selectFrom('notifications').selectAll().where('account_id', '=', accountId)
  if (page.cursor) q = q.where('id', '<', page.cursor)
  return q.orderBy('id', 'desc').limit(page.limit).execute()
}

/** The email deliveries of some notifications of one account. */
export const listDeliveriesOf = (db: Db, accountId: string, notificationIds: string[]): Promise<DeliveryRow[]> =>
  notificationIds.length === 0
    ? Promise.resolve([])
    : db
        .selectFrom('deliveries')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('notification_id', '=', anyOf(notificationIds))
        .orderBy('recipient')
        .execute()

/** Whether the account has had mail that reached nobody in the last `days` days. */
export async function hasUndeliverable(
  db: Db,
  accountId: string,
  days: number,
): Promise<{ notifications: number; addresses: string[] }> {
  const n = await sql<{ n: number }>`
    select count(*)::int as n from notifications
    where account_id = ${accountId} and status = 'undeliverable' and created_at > now() - make_interval(days => ${days})`.execute(
    db,
  )
  const a = await db.selectFrom('suppressions').select('email').where('account_id', '=', accountId).execute()
  return { notifications: n.rows[0]?.n ?? 0, addresses: a.map((r) => r.email) }
}

/** Gives one recipient of a notification their own subject and text. */
export async function setPersonalContent(
  db: Db,
  accountId: string,
  notificationId: string,
  email: string,
  content: { subject: string; text: string; html: string },
): Promise<void> {
  await db
    .updateTable('deliveries')
    .set({ content: JSON.stringify(content) })
    .where('account_id', '=', accountId)
    .where('notification_id', '=', notificationId)
    .where((eb) => eb(eb.fn('lower', ['recipient']), '=', email.toLowerCase()))
    .execute()
}

/**
 * Locks notifications (FOR UPDATE) in key order and reads what their outcome needs. The order is
 * what keeps two settling workers from waiting on each other in a circle.
 */
export const lockNotifications = (db: Db, keys: { account_id: string; notification_id: string }[]) =>
  db
    .selectFrom('notifications')
    .select(['account_id', 'id', 'category', 'kind', 'is_test', 'status'])
    .where((eb) =>
      whereKeys(
        eb,
        keys.map((k) => ({ account_id: k.account_id, id: k.notification_id })),
      ),
    )
    .orderBy('account_id')
    .orderBy('id')
    .forUpdate()
    .execute()

/** How many deliveries each notification has in each status (statuses with none are absent). */
export const countDeliveriesByStatus = (
  db: Db,
  notifications: { account_id: string; id: string }[],
): Promise<{ account_id: string; notification_id: string | null; status: DeliveryStatus; n: number }[]> =>
  db
    .selectFrom('deliveries')
    .select(['account_id', 'notification_id', 'status', sql<number>`count(*)::int`.as('n')])
    .where((eb) =>
      whereKeys(
        eb,
        notifications.map((n) => ({ account_id: n.account_id, notification_id: n.id })),
      ),
    )
    .groupBy(['account_id', 'notification_id', 'status'])
    .execute()

/**
 * Queues the notification to more `recipients` than it had (a bounce's fallback, a resend), as
 * deliveries of its own, and adds them to its recipients. A delivery's id is the notification's
 * id and a hash of the address, as the fan-out makes them, so whoever has a delivery of it already
 * is not sent it again: calling this twice queues nothing the second time. With `fallbackFor`, the
 * new deliveries stand in for that bounced one. Answers the recipients that were queued.
 */
export async function addRecipients(
  db: Db,
  n: { accountId: string; id: string; maxAttempts: number },
  recipients: Recipient[],
  fallbackFor?: { deliveryId: string; address: string },
): Promise<Recipient[]> {
  if (recipients.length === 0) return []
  const res = await sql<{ recipient: string }>`
    insert into deliveries (account_id, id, channel, notification_id, recipient, recipient_name, max_attempts, fallback_for)
    select ${n.accountId}, ${n.id} || '.' || left(md5(lower(e)), 16), 'email', ${n.id}, e, nm, ${n.maxAttempts},
      ${fallbackFor?.deliveryId ?? null}
    from unnest(${recipients.map((r) => r.email)}::text[], ${recipients.map((r) => r.name)}::text[]) as x(e, nm)
    on conflict (account_id, id) do nothing
    returning recipient`.execute(db)
  const queued = new Set(res.rows.map((r) => r.recipient))
  const added = recipients
    .filter((r) => queued.has(r.email))
    .map((r) => (fallbackFor ? { ...r, fallbackFor: fallbackFor.address } : r))
  if (added.length > 0)
    await sql`
      update notifications set recipients = recipients || ${JSON.stringify(added)}::jsonb
      where account_id = ${n.accountId} and id = ${n.id}`.execute(db)
  return added
}

/**
 * Sends the notification's failed or bounced deliveries to these addresses once more, from a first
 * attempt: the caller passes only addresses the routing chooses now, so a bounced one is back only
 * after its suppression was cleared. Answers the addresses queued again.
 */
export async function requeueFailed(db: Db, accountId: string, notificationId: string, emails: string[]) {
  const res = await sql<{ recipient: string }>`
    update deliveries set status = 'queued', attempts = 0, next_attempt_at = now(), last_error = null,
      -- a new reference: a late report about the first send must not bounce this one
      lock_token = null, return_token = null, updated_at = now()
    where account_id = ${accountId} and notification_id = ${notificationId} and status in ('failed', 'bounced')
      and lower(recipient) = any(${emails.map((e) => e.toLowerCase())}::text[])
    returning recipient`.execute(db)
  return res.rows.map((r) => r.recipient)
}
