import type { ColumnType, Selectable } from 'kysely'

export interface WebhookEndpointsTable {
  id: string
  url: string
  description: string | null
  event_types: string[] | null
  status: ColumnType<'enabled' | 'disabled', 'enabled' | 'disabled' | undefined, 'enabled' | 'disabled'>
  disabled_reason: string | null
  created_at: ColumnType<Date, never, never>
}
export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>

export interface EventsTable {
  account_id: string
  id: string
  type: string
  payload: ColumnType<unknown, string, never>
  created_at: ColumnType<Date, Date | undefined, never>
}
