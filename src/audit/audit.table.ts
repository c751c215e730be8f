import type { ColumnType, Insertable, Selectable } from 'kysely'

export interface AuditEventsTable {
  account_id: string
  id: string
  at: ColumnType<Date, Date | undefined, never>
  actor_type: 'api_key' | 'user' | 'system'
  actor_id: string
  action: string
  before: unknown
  after: unknown
  request_id: string | null
}

export type AuditEventRow = Selectable<AuditEventsTable>
export type NewAuditEventRow = Insertable<AuditEventsTable>
