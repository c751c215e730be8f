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

/** Recent verification mails of one key (an address, the account, a caller) of an account. */
export interface VerificationMailLimitsTable {
  account_id: string
  scope: 'address' | 'account' | 'caller'
  key: string
  /** ISO times, oldest first; written as JSON text. */
  sent_at: ColumnType<string[], string, string>
  last_at: Date
}
