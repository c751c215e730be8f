import { sql } from 'kysely'

import type { Db } from '../db/database.ts'

/** An event row to write: `body` is the payload as JSON text, without its `timestamp`. */
export interface EventInsert {
  accountId: string
  id: string
  type: string
  body: string
}

/**
 * Inserts the events and, in the same statement, one webhook delivery per enabled endpoint that
 * subscribes to each one's type. The payload's `timestamp` is the database's now(), as ISO 8601
 * in UTC with milliseconds (the shape of `Date.prototype.toISOString`): the time of the
 * transaction that records the event, the same instant as the row's `created_at`.
 */
export async function insertEventsWithDeliveries(db: Db, events: EventInsert[], maxAttempts: number): Promise<void> {
  await sql`
    with e as (
      insert into events (account_id, id, type, payload)
      select a, i, t,
        p::jsonb || jsonb_build_object('timestamp', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
      from unnest(${events.map((r) => r.accountId)}::text[], ${events.map((r) => r.id)}::text[], ${events.map((r) => r.type)}::text[], ${events.map((r) => r.body)}::text[]) as x(a, i, t, p)
      returning account_id, id, type
    )
    insert into deliveries (account_id, id, channel, event_id, endpoint_id, recipient, max_attempts)
    select e.account_id, e.id || '.' || w.id, 'webhook', e.id, w.id, w.url, ${maxAttempts}
    from e join webhook_endpoints w on w.status = 'enabled' and (w.event_types is null or e.type = any(w.event_types))`.execute(
    db,
  )
}
