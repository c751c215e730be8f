import type { ColumnType, Selectable } from 'kysely'

export interface ApiKeysTable {
  id: string
  name: string
  prefix: string
  token_hash: string
  created_at: ColumnType<Date, never, never>
  last_used_at: Date | null
  revoked_at: Date | null
}

export type ApiKeyRow = Selectable<ApiKeysTable>
