import type { ColumnType, Selectable } from 'kysely'

export interface BroadcastsTable {
  id: string
  category: string
  subject: string
  text: string
  account_ids: string[] | null
  status: ColumnType<'running' | 'done', 'running' | 'done' | undefined, 'running' | 'done'>
  total: number
  processed: ColumnType<number, number | undefined, number>
  notifications: ColumnType<number, number | undefined, number>
  undeliverable: ColumnType<number, number | undefined, number>
  cursor: string | null
  actor_type: string
  actor_id: string
  created_at: ColumnType<Date, never, never>
  finished_at: Date | null
}
export type BroadcastRow = Selectable<BroadcastsTable>
