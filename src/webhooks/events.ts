import { sql } from 'kysely'
import type { Db } from '../db/database.ts'
import { newId } from '../lib/ids.ts'

/** The webhook event catalogue (SPEC 4): the `type` of every event an endpoint can receive. */
export const EVENT_TYPES = [
  'contacts.updated',
  'contacts.vacated',
  'user.deactivated',
  'notification.delivered',
  'notification.failed',
  'contacts.review_due',
] as const
export type EventType = (typeof EVENT_TYPES)[number]

/** Attempts for a webhook delivery before it is `failed` (about a day and a half on the schedule). */
export const WEBHOOK_MAX_ATTEMPTS = 12

/**
 * Records an event and queues one webhook delivery to every enabled endpoint that subscribes to
 * its type, in the caller's transaction: the event exists if and only if the change that caused
 * it committed (the outbox rule, STYLE 7).
 */
export async function emitEvent(db: Db, accountId: string, type: EventType, data: unknown): Promise<void> {
  const id = newId('evt')
  const payload = JSON.stringify({ type, timestamp: new Date().toISOString(), accountId, data })
  await db.insertInto('events').values({ account_id: accountId, id, type, payload }).execute()
  await sql`
    insert into deliveries (account_id, id, channel, event_id, endpoint_id, recipient, max_attempts)
    select ${accountId}, ${id} || '.' || e.id, 'webhook', ${id}, e.id, e.url, ${WEBHOOK_MAX_ATTEMPTS}
    from webhook_endpoints e
    where e.status = 'enabled' and (e.event_types is null or ${type} = any(e.event_types))`.execute(db)
}
