import { sql } from 'kysely'

import type { Db } from '../db/database.ts'
import { newId } from '../lib/ids.ts'

/** The webhook event catalogue (docs/PRODUCT.md, "Webhooks"): the `type` of every event an endpoint can receive. */
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

/** An event to record: of which account, what type, and its `data`. */
export interface NewEvent {
  accountId: string
  type: EventType
  data: unknown
}

/**
 * Records events and queues one webhook delivery per enabled endpoint that subscribes to each
 * one's type, in the caller's transaction: an event exists if and only if the change that caused
 * it committed (the outbox rule, STYLE 7). One statement for any number of events, as hot paths
 * (a sheet change, a worker's batch of settled mails) make them.
 */
export async function emitEvents(db: Db, events: NewEvent[]): Promise<void> {
  if (events.length === 0) return
  const rows = events.map((e) => ({
    ...e,
    id: newId('evt'),
    payload: JSON.stringify({
      type: e.type,
      timestamp: new Date().toISOString(),
      accountId: e.accountId,
      data: e.data,
    }),
  }))
  await sql`
    with e as (
      insert into events (account_id, id, type, payload)
      select a, i, t, p::jsonb
      from unnest(${rows.map((r) => r.accountId)}::text[], ${rows.map((r) => r.id)}::text[], ${rows.map((r) => r.type)}::text[], ${rows.map((r) => r.payload)}::text[]) as x(a, i, t, p)
      returning account_id, id, type
    )
    insert into deliveries (account_id, id, channel, event_id, endpoint_id, recipient, max_attempts)
    select e.account_id, e.id || '.' || w.id, 'webhook', e.id, w.id, w.url, ${WEBHOOK_MAX_ATTEMPTS}
    from e join webhook_endpoints w on w.status = 'enabled' and (w.event_types is null or e.type = any(w.event_types))`.execute(
    db,
  )
}

/** `emitEvents` of one event. */
export const emitEvent = (db: Db, accountId: string, type: EventType, data: unknown): Promise<void> =>
  emitEvents(db, [{ accountId, type, data }])
