import type { ColumnType, Selectable } from 'kysely'

import type { Recipient } from '../routing/recipients.repository.ts'

export interface NotificationsTable {
  account_id: string
  id: string
  category: string
  subject: string
  /** Null for a broadcast's notification: the text is its broadcast's (stored once). */
  text: string | null
  html: string | null
  is_test: ColumnType<boolean, boolean | undefined, never>
  kind: ColumnType<'notification' | 'system', 'notification' | 'system' | undefined, never>
  fallback: 'primary' | 'super_admins' | null
  status: 'queued' | 'undeliverable'
  recipients: ColumnType<Recipient[], string, never>
  broadcast_id: string | null
  actor_type: string
  actor_id: string
  request_id: string | null
  created_at: ColumnType<Date, never, never>
}
export type NotificationRow = Selectable<NotificationsTable>
