import type { ColumnType } from 'kysely'

export interface EmailVerificationsTable {
  account_id: string
  id: string
  email: string
  token_hash: string
  expires_at: Date
  used_at: Date | null
  created_at: ColumnType<Date, never, never>
}
