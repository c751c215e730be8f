import type { ColumnType, Selectable } from 'kysely'

export interface DeliveryContent {
  subject: string
  text: string
  html: string | null
}

/**
 * cancelled: its broadcast was cancelled before it was sent; bounced: refused for good, at once or
 * by a later report (a DSN, an email service's event), after which its fallback was sent.
 */
export type DeliveryStatus = 'queued' | 'sending' | 'retrying' | 'delivered' | 'failed' | 'cancelled' | 'bounced'

/** One message to one recipient over one channel: the unit the workers claim, send and retry. */
export interface DeliveriesTable {
  account_id: string
  id: string
  channel: 'email' | 'webhook'
  notification_id: string | null
  event_id: string | null
  endpoint_id: string | null
  recipient: string
  recipient_name: string | null
  /** A personal subject/text/html for this recipient; null: the notification's. */
  content: ColumnType<DeliveryContent | null, string | null | undefined, string | null>
  status: ColumnType<DeliveryStatus, DeliveryStatus | undefined, DeliveryStatus>
  attempts: ColumnType<number, number | undefined, number>
  max_attempts: number
  next_attempt_at: ColumnType<Date, Date | undefined, Date>
  lock_token: string | null
  last_error: string | null
  delivered_at: Date | null
  /** Random, set at the first claim of an email: what the signed return-path reference names (bounces/return-path.ts). */
  return_token: ColumnType<string | null, never, string | null>
  /** The bounced delivery this one was sent in place of (bounces/bounce-consequences.ts). */
  fallback_for: ColumnType<string | null, string | null | undefined, never>
  created_at: ColumnType<Date, never, never>
  updated_at: ColumnType<Date, Date | undefined, Date>
}
export type DeliveryRow = Selectable<DeliveriesTable>
