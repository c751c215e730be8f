import type { ColumnType, Selectable } from 'kysely'

/** running: being fanned out; done: every account fanned out; cancelled: stopped by a cancel. */
export type BroadcastStatus = 'running' | 'done' | 'cancelled'

export interface BroadcastsTable {
  id: string
  category: string
  subject: string
  /** The content, stored once: the broadcast's notifications read it from here. */
  text: string
  html: string | null
  account_ids: string[] | null
  status: ColumnType<BroadcastStatus, BroadcastStatus | undefined, BroadcastStatus>
  total: number
  processed: ColumnType<number, number | undefined, number>
  notifications: ColumnType<number, number | undefined, number>
  undeliverable: ColumnType<number, number | undefined, number>
  cursor: string | null
  actor_type: string
  actor_id: string
  created_at: ColumnType<Date, never, never>
  finished_at: Date | null
  /** When a batch was last fanned out: the workers take the least recently advanced one. */
  advanced_at: ColumnType<Date | null, never, Date>
  cancelled_at: ColumnType<Date | null, never, Date>
  /** Who cancelled it: `<actor type>:<actor id>`. */
  cancelled_by: ColumnType<string | null, never, string>
  /** Deliveries the cancel stopped before they were sent. */
  cancelled_deliveries: ColumnType<number, never, number>
}
export type BroadcastRow = Selectable<BroadcastsTable>
