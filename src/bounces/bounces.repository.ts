import { sql } from 'kysely'

import type { Db } from '../db/database.ts'
import type { DeliveryRow } from '../delivery/deliveries.table.ts'
import type { Recipient } from '../routing/recipients.repository.ts'
import type { MailEvent } from './mail-event.ts'
import type { SuppressionKind } from './suppressions.table.ts'

/**
 * The email delivery a return-path token names, locked until the transaction ends: two reports
 * of one delivery (a DSN and the service's event, or a replay) are taken one after the other.
 */
export const lockDeliveryByToken = (db: Db, token: string): Promise<DeliveryRow | undefined> =>
  db
    .selectFrom('deliveries')
    .selectAll()
    .where('return_token', '=', token)
    .where('channel', '=', 'email')
    .forUpdate()
    .executeTakeFirst()

/** Keeps the report once; false when this source's event was taken before (a replay). */
export async function insertMailEvent(db: Db, d: DeliveryRow, e: MailEvent): Promise<boolean> {
  const row = await db
    .insertInto('mail_events')
    .values({
      source: e.source,
      event_id: e.eventId.slice(0, 500),
      account_id: d.account_id,
      delivery_id: d.id,
      kind: e.kind,
      recipient: d.recipient.toLowerCase(),
      diagnostic: e.diagnostic.slice(0, 500),
      at: e.at,
    })
    .onConflict((oc) => oc.columns(['source', 'event_id']).doNothing())
    .returning('event_id')
    .executeTakeFirst()
  return row !== undefined
}

/** Soft bounces of one address in an account since `days` days ago, this one included. */
export async function countSoftBounces(db: Db, accountId: string, email: string, days: number): Promise<number> {
  const res = await sql<{ n: number }>`
    select count(*)::int as n from mail_events
    where account_id = ${accountId} and recipient = ${email.toLowerCase()} and kind = 'soft_bounce'
      and at > now() - make_interval(days => ${days})`.execute(db)
  return res.rows[0]?.n ?? 0
}

/** Marks the delivery bounced with the reason; false when it already was (a second report changes nothing). */
export async function markBounced(db: Db, d: Pick<DeliveryRow, 'account_id' | 'id'>, reason: string): Promise<boolean> {
  const res = await db
    .updateTable('deliveries')
    .set({ status: 'bounced', last_error: reason.slice(0, 500), lock_token: null, updated_at: sql`now()` })
    .where('account_id', '=', d.account_id)
    .where('id', '=', d.id)
    .where('status', '<>', 'bounced')
    .executeTakeFirst()
  return Number(res.numUpdatedRows) > 0
}

/** Puts the address on the account's suppression list, or updates why it is there. */
export async function suppress(
  db: Db,
  s: {
    accountId: string
    email: string
    kind: SuppressionKind
    reason: string
    source: MailEvent['source']
    deliveryId: string
  },
): Promise<void> {
  const values = {
    kind: s.kind,
    reason: s.reason.slice(0, 500),
    source: s.source,
    delivery_id: s.deliveryId,
    at: sql<Date>`now()`,
  }
  await db
    .insertInto('suppressions')
    .values({ account_id: s.accountId, email: s.email.toLowerCase(), ...values })
    .onConflict((oc) => oc.columns(['account_id', 'email']).doUpdateSet(values))
    .execute()
}

/** The slots an address holds in an account (a user's current address, or an outside one), with the user. */
export async function slotsOfAddress(
  db: Db,
  accountId: string,
  email: string,
): Promise<{ slot: string; user_id: string | null; name: string | null }[]> {
  const res = await sql<{ slot: string; user_id: string | null; name: string | null }>`
    select s.slot, s.user_id, u.name
    from contact_slots s left join users u on u.account_id = s.account_id and u.id = s.user_id
    where s.account_id = ${accountId} and lower(coalesce(u.email, s.email)) = ${email.toLowerCase()}
    order by s.slot, s.position`.execute(db)
  return res.rows
}

/**
 * Queues the notification again to the `recipients` who have not had it, as deliveries standing
 * in for the bounced one, and adds them to the notification's recipients (with the address they
 * replace). A delivery's id is the notification's id and a hash of the address, as the fan-out
 * makes them, so whoever already had the notification (or its fallback) is not sent it again.
 * Answers the recipients that were queued.
 */
export async function queueFallback(
  db: Db,
  bounced: Pick<DeliveryRow, 'account_id' | 'id' | 'notification_id' | 'recipient' | 'max_attempts'>,
  recipients: Recipient[],
): Promise<Recipient[]> {
  if (recipients.length === 0) return []
  const res = await sql<{ recipient: string }>`
    insert into deliveries (account_id, id, channel, notification_id, recipient, recipient_name, max_attempts, fallback_for)
    select ${bounced.account_id}, ${bounced.notification_id} || '.' || left(md5(lower(e)), 16), 'email',
      ${bounced.notification_id}, e, n, ${bounced.max_attempts}, ${bounced.id}
    from unnest(${recipients.map((r) => r.email)}::text[], ${recipients.map((r) => r.name)}::text[]) as x(e, n)
    on conflict (account_id, id) do nothing
    returning recipient`.execute(db)
  const queued = new Set(res.rows.map((r) => r.recipient))
  const added = recipients.filter((r) => queued.has(r.email)).map((r) => ({ ...r, fallbackFor: bounced.recipient }))
  if (added.length > 0)
    await sql`
      update notifications set recipients = recipients || ${JSON.stringify(added)}::jsonb
      where account_id = ${bounced.account_id} and id = ${bounced.notification_id}`.execute(db)
  return added
}

/** The account's suppression list, newest first. */
export const listSuppressions = (db: Db, accountId: string) =>
  db
    .selectFrom('suppressions')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('at', 'desc')
    .orderBy('email')
    .execute()

/** Takes the address off the list; answers the row it removed, if there was one. */
export const deleteSuppression = (db: Db, accountId: string, email: string) =>
  db
    .deleteFrom('suppressions')
    .where('account_id', '=', accountId)
    .where('email', '=', email.toLowerCase())
    .returningAll()
    .executeTakeFirst()
