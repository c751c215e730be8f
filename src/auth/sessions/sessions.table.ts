import type { ColumnType } from 'kysely'

export interface SessionsTable {
  account_id: string
  id: string
  user_id: string
  token_hash: string
  created_at: ColumnType<Date, never, never>
  expires_at: Date
}
