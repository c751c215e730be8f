import type { ColumnType, Selectable } from 'kysely'

/** One Idempotency-Key of one caller of one account: running while its request runs, then its stored answer. */
export interface IdempotencyKeysTable {
  account_id: string
  actor_id: string
  key: string
  request_hash: string
  status: 'running' | 'done'
  response_status: number | null
  response_body: ColumnType<unknown, string | null, string | null>
  created_at: ColumnType<Date, Date | undefined, Date>
}
export type IdempotencyKeyRow = Selectable<IdempotencyKeysTable>
