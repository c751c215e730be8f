import { sql } from 'kysely'

import type { Write } from '../db/one-statement.ts'

/** An event row to write: `body` is the payload as JSON text, without its `timestamp`. */
export interface EventInsert {
  accountId: string
  id: string
  type: string
  body: string
}

/**
 * The events and one webhook delivery per enabled endpoint that subscribes to each one's type:
 * two inserts that read nothing of each other (a delivery names its event by the id given here),
 * to run as one statement (db/one-statement.ts), where the deliveries' foreign key to their
 * events is checked once both are in. The payload's `timestamp` is the database's now(), as ISO
 * 8601 in UTC with milliseconds (the shape of `Date.prototype.toISOString`): the time of the
 * transaction that records the event, the same instant as the row's `created_at`.
 */
export function eventInserts(events: EventInsert[], maxAttempts: number): Write[] {
  const accountIds = events.map((r) => r.accountId)
  const ids = events.map((r) => r.id)
  const types = events.map((r) => r.type)
  return [
    sql`
      insert into events (account_id, id, type, payload)
      select a, i, t,
        p::jsonb || jsonb_build_object('timestamp', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
      from unnest(${accountIds}::text[], ${ids}::text[], ${types}::text[], ${events.map((r) => r.body)}::text[]) as x(a, i, t, p)`,
    sql`
      insert into deliveries (account_id, id, channel, event_id, endpoint_id, recipient, max_attempts)
      select x.a, x.i || '.' || w.id, 'webhook', x.i, w.id, w.url, ${maxAttempts}
      from unnest(${accountIds}::text[], ${ids}::text[], ${types}::text[]) as x(a, i, t)
      join webhook_endpoints w on w.status = 'enabled' and (w.event_types is null or x.t = any(w.event_types))`,
  ]
}
