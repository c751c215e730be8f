import type { Db } from '../db/database.ts'
import { executeAsOne, type Write } from '../db/one-statement.ts'
import { WEBHOOK_MAX_ATTEMPTS } from '../delivery/retry-policy.ts'
import { newId } from '../lib/ids.ts'
import { eventInserts } from './events.repository.ts'

/** The webhook event catalogue (docs/PRODUCT.md, "Webhooks"): the `type` of every event an endpoint can receive. */
export const EVENT_TYPES = [
  'contacts.updated',
  'contacts.vacated',
  'user.deactivated',
  'notification.delivered',
  'notification.failed',
  'contacts.review_due',
  'contact.undeliverable',
  'contacts.correction_requested',
] as const
export type EventType = (typeof EVENT_TYPES)[number]

/** An event to record: of which account, what type, and its `data`. */
export interface NewEvent {
  accountId: string
  type: EventType
  data: unknown
}

/**
 * Records events and queues one webhook delivery per enabled endpoint that subscribes to each
 * one's type, in the caller's transaction: an event exists if and only if the change that caused
 * it committed (the transactional outbox, src/delivery/DESIGN.md). One statement for any number
 * of events, as hot paths (a sheet change, a worker's batch of settled mails) make them.
 */
export async function emitEvents(db: Db, events: NewEvent[]): Promise<void> {
  await executeAsOne(db, eventWrites(events))
}

/**
 * The writes of `emitEvents`, not yet run: for a change that writes its own rows and its events
 * in one statement (db/one-statement.ts). None for no events.
 */
export function eventWrites(events: NewEvent[]): Write[] {
  if (events.length === 0) return []
  return eventInserts(
    events.map((e) => ({
      accountId: e.accountId,
      id: newId('evt'),
      type: e.type,
      // the statement adds the payload's timestamp from the database's clock, like created_at
      body: JSON.stringify({ type: e.type, accountId: e.accountId, data: e.data }),
    })),
    WEBHOOK_MAX_ATTEMPTS,
  )
}

/** `emitEvents` of one event. */
export const emitEvent = (db: Db, accountId: string, type: EventType, data: unknown): Promise<void> =>
  emitEvents(db, [{ accountId, type, data }])
