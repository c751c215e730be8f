import type { ColumnType } from 'kysely'

import type { MailEventKind, MailEventSource } from './mail-event.ts'

/** A report (bounce, complaint, delivery) that matched one of our deliveries, kept once per (source, event id). */
export interface MailEventsTable {
  source: MailEventSource
  event_id: string
  account_id: string
  delivery_id: string
  kind: MailEventKind
  recipient: string
  diagnostic: string
  at: Date
  received_at: ColumnType<Date, never, never>
}
